"""Benchmark: the revenue page and the order lists on a large PostgreSQL database.

Builds, with bulk INSERT ... SELECT generate_series statements, two years and a month of
sales (160 000 orders, 320 000 order items, their payments, refunds and sessions), then
times through the Flask test client, signed in as administrator and as accountant:

- the revenue page over its default period (January 1st of last year to today) and over
  every month of data, next to the bare SQL aggregates behind it (reports.revenue_report);
- the order lists of the office and of the accountant;

and counts each page's statements (the same over a month as over two years).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/revenue_bench.py [--requests 30] [--keep]

The database is emptied and rebuilt (through the migrations) unless --keep reuses it.
Targets (2-core machine): revenue page ≤ 300 ms, order list ≤ 150 ms (median).
"""

import argparse
import os
import statistics
import sys
import time as clock
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url

from tutoradmin import create_app, reports
from tutoradmin.extensions import db
from tutoradmin.localtime import local_today
from tutoradmin.models import OrderItem, Role, User

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"
PASSWORD = "banc-d-essai-revenus"
ORDERS = 160_000
STUDENTS = 3_000
COURSES = 20
TUTORS = 60
SPAN_DAYS = 760
UNPAID_SESSIONS = 3_000

# Each statement fills one table from generate_series; :start and :span place the orders in time.
DATASET = [
    """INSERT INTO users (id, email, password_hash, role, status, first_name, last_name, created_at)
       SELECT g, 'eleve' || g || '@banc.test', 'x', 'student', 'active', 'Élève', 'N' || g, :start
       FROM generate_series(1, :students) g""",
    """INSERT INTO users (id, email, password_hash, role, status, first_name, last_name, created_at)
       SELECT :students + g, 'tuteur' || g || '@banc.test', 'x', 'tutor', 'active', 'Tuteur', 'T' || g, :start
       FROM generate_series(1, :tutors) g""",
    """INSERT INTO courses (id, slug, title, full_name, description, rate_cents, active, created_at)
       SELECT g, 'cours-' || g, 'Cours ' || g, 'Cours numéro ' || g, '', 4500 + (g % 4) * 500, true, :start
       FROM generate_series(1, :courses) g""",
    # Tutor t teaches course ((t - 1) % courses) + 1: three tutors per course.
    """INSERT INTO tutors (id, user_id, display_name, bio, hourly_rate_cents, priority, active, created_at)
       SELECT g, :students + g, 'Tuteur ' || g, '', 2200 + (g % 8) * 100, g % 20, true, :start
       FROM generate_series(1, :tutors) g""",
    """INSERT INTO tutor_courses (tutor_id, course_id, created_at)
       SELECT g, ((g - 1) % :courses) + 1, :start FROM generate_series(1, :tutors) g""",
    # Two sessions per order, paid evenly over the span, held one to twenty days later.
    """CREATE UNLOGGED TABLE bench_items (n int, j int, id int, course_id int, tutor_id int, duration int,
       price int, discount int, credit int, paid_at timestamptz, starts_at timestamptz)""",
    """INSERT INTO bench_items
       SELECT n, j, (n - 1) * 2 + j, c, c + :courses * ((n + j) % 3), d,
              (rate * d + 30) / 60,
              CASE WHEN n % 10 = 0 THEN (rate * d + 30) / 60 * 15 / 100 ELSE 0 END,
              CASE WHEN n % 13 = 0 THEN 1000 ELSE 0 END,
              paid_at, paid_at + ((n % 20) + 1) * interval '1 day' + j * interval '2 hours'
       FROM generate_series(1, :orders) n, generate_series(1, 2) j,
            LATERAL (SELECT ((n * 7 + j * 3) % :courses) + 1 AS c,
                            (ARRAY[60, 90, 120])[((n * 5 + j) % 3) + 1] AS d,
                            :start + (n - 1) * (:span / :orders) * interval '1 second' AS paid_at) f,
            LATERAL (SELECT 4500 + (c % 4) * 500 AS rate) r""",
    """INSERT INTO orders (id, user_id, status, subtotal_cents, discount_cents, credit_cents, total_cents,
                          currency, billing_first_name, billing_last_name, billing_email, billing_phone,
                          billing_address, billing_city, billing_province, billing_postal_code,
                          billing_country, created_at, paid_at)
       SELECT n, (n % :students) + 1,
              CASE WHEN n % 40 = 0 THEN 'partially_refunded' WHEN n % 97 = 0 THEN 'refunded' ELSE 'paid' END,
              sum(price), sum(discount), sum(credit), sum(price - discount - credit), 'CAD',
              'Élève', 'N', 'eleve@banc.test', '', '', 'Québec', 'QC', '', 'CA',
              min(paid_at) - interval '5 minutes', min(paid_at)
       FROM bench_items GROUP BY n""",
    """INSERT INTO order_items (id, order_id, course_id, tutor_id, starts_at, ends_at, duration_minutes,
                               price_cents, discount_cents, credit_cents, tutor_earnings_cents)
       SELECT i.id, i.n, i.course_id, i.tutor_id, i.starts_at, i.starts_at + i.duration * interval '1 minute',
              i.duration, i.price, i.discount, i.credit, (t.hourly_rate_cents * i.duration + 30) / 60
       FROM bench_items i JOIN tutors t ON t.id = i.tutor_id""",
    """INSERT INTO payments (id, order_id, provider, gateway_payment_id, idempotency_key, amount_cents,
                            status, created_at, succeeded_at)
       SELECT id, id, 'simulated', 'pi_banc_' || id, 'banc-paiement-' || id, total_cents, 'succeeded',
              created_at, paid_at
       FROM orders""",
    # A partial refund (the second session) of one order in forty, a full one of one in 97.
    """INSERT INTO refunds (id, order_id, payment_id, amount_cents, reason, status, gateway_refund_id,
                           idempotency_key, created_at, processed_at)
       SELECT o.id, o.id, o.id,
              CASE WHEN o.status = 'refunded' THEN o.total_cents
                   ELSE (SELECT price_cents - discount_cents - credit_cents FROM order_items
                         WHERE id = o.id * 2) END,
              'Banc d''essai', 'succeeded', 're_banc_' || o.id, 'banc-remboursement-' || o.id,
              o.paid_at + interval '1 day', o.paid_at + interval '1 day'
       FROM orders o WHERE o.status <> 'paid'""",
    """INSERT INTO refund_items (refund_id, order_item_id, amount_cents, cancels_appointment)
       SELECT r.id, i.id, i.price_cents - i.discount_cents - i.credit_cents, true
       FROM refunds r JOIN order_items i ON i.order_id = r.order_id
       WHERE r.amount_cents = (SELECT total_cents FROM orders WHERE id = r.order_id) OR i.id = r.order_id * 2""",
    # One session per item: refunded ones and one in 25 cancelled, past ones completed.
    """INSERT INTO appointments (order_item_id, student_id, tutor_id, course_id, starts_at, ends_at,
                                duration_minutes, status, cancelled_at, completed_at, created_at)
       SELECT i.id, o.user_id, i.tutor_id, i.course_id, i.starts_at, i.ends_at, i.duration_minutes, s.status,
              CASE WHEN s.status = 'cancelled' THEN o.paid_at + interval '1 day' END,
              CASE WHEN s.status = 'completed' THEN i.ends_at END, o.paid_at
       FROM order_items i JOIN orders o ON o.id = i.order_id,
            LATERAL (SELECT CASE
                WHEN o.status = 'refunded' OR (o.status = 'partially_refunded' AND i.id = o.id * 2)
                     OR (o.id % 25 = 0 AND i.id = o.id * 2 - 1) THEN 'cancelled'
                WHEN i.ends_at < :now THEN 'completed' ELSE 'scheduled' END AS status) s""",
    # Sessions the office booked without payment.
    """INSERT INTO appointments (student_id, tutor_id, course_id, starts_at, ends_at, duration_minutes,
                                status, completed_at, created_at)
       SELECT (g % :students) + 1, t, ((t - 1) % :courses) + 1, s, s + interval '1 hour', 60,
              'completed', s + interval '1 hour', s - interval '1 day'
       FROM generate_series(1, :unpaid) g,
            LATERAL (SELECT (g % :tutors) + 1 AS t,
                            :start + g * (:span / :unpaid) * interval '1 second' AS s) f""",
    "DROP TABLE bench_items",
]
PLAIN_INDEXES = """
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
    WHERE i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = c.oid)
"""
SEQUENCES = [
    "users",
    "courses",
    "tutors",
    "orders",
    "order_items",
    "payments",
    "refunds",
    "refund_items",
    "appointments",
]


def reset_schema(app):
    with app.app_context():
        with db.engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        upgrade()


def build_dataset(app, now):
    start = now - timedelta(days=SPAN_DAYS)
    params = {
        "start": start,
        "now": now,
        "span": SPAN_DAYS * 86400,
        "orders": ORDERS,
        "students": STUDENTS,
        "tutors": TUTORS,
        "courses": COURSES,
        "unpaid": UNPAID_SESSIONS,
    }
    with app.app_context():
        with db.engine.begin() as conn:
            # The rows are consistent by construction: skip the per-row foreign key triggers.
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            # Plain indexes are faster to build once at the end than to maintain row by row.
            indexes = conn.execute(text(PLAIN_INDEXES)).all()
            for name, _definition in indexes:
                conn.execute(text(f'DROP INDEX "{name}"'))
            for statement in DATASET:
                conn.execute(text(statement), {k: v for k, v in params.items() if f":{k}" in statement})
            for _name, definition in indexes:
                conn.execute(text(definition))
            for table in SEQUENCES:
                conn.execute(
                    text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
                )
        for role, email in ((Role.ADMIN, "admin@banc.test"), (Role.ACCOUNTANT, "comptable@banc.test")):
            user = User(email=email, role=role.value, first_name="Banc", last_name=role.value)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))


class QueryCounter:
    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1


def timed(call, count):
    """Median and 95th percentile in milliseconds of `count` calls, after three warm-up calls."""
    for _ in range(3):
        call()
    timings = []
    for _ in range(count):
        started = clock.perf_counter()
        call()
        timings.append((clock.perf_counter() - started) * 1000)
    timings.sort()
    return statistics.median(timings), timings[max(0, int(len(timings) * 0.95) - 1)]


def signed_in_client(app, email):
    client = app.test_client()
    response = client.post("/connexion", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    return client


def page(client, path):
    def get():
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} → {response.status_code}")

    return get


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--keep", action="store_true", help="reuse the database built by a previous run")
    args = parser.parse_args()
    url = make_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL)).set(drivername="postgresql+psycopg")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": url.render_as_string(hide_password=False),
            "SECRET_KEY": "banc",
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    now = datetime.now(UTC)
    if not args.keep:
        started = clock.perf_counter()
        reset_schema(app)
        build_dataset(app, now)
        print(f"dataset built in {clock.perf_counter() - started:.1f} s")
    with app.app_context():
        items = db.session.scalar(select(func.count()).select_from(OrderItem))
        first = db.session.scalar(select(func.min(OrderItem.starts_at)))
        today = local_today(now)
        default_start, _ = reports.default_range(today)
        whole_start = local_today(first) - timedelta(days=30)
        month_start = today.replace(day=1)
        counter = QueryCounter(db.engine)
        print(f"{items} order items from {whole_start} to {today}; load average {os.getloadavg()[0]:.1f}")
        print(f"\n{'measure':56} {'median':>10} {'p95':>10} {'queries':>8}")
        for label, start in (("default period", default_start), ("all data", whole_start)):

            def aggregates(start=start):
                reports.revenue_report(start, today)
                db.session.rollback()

            row(f"SQL aggregates, {label} ({start} → {today})", aggregates, counter, args.requests)

    # Requests run outside that application context: each one loads its own signed-in user.
    admin = signed_in_client(app, "admin@banc.test")
    accountant = signed_in_client(app, "comptable@banc.test")
    pages = [
        ("revenue page, admin, default period", page(admin, "/admin/revenus/")),
        (
            "revenue page, accountant, all data",
            page(accountant, f"/admin/compta/revenus/?debut={whole_start}&fin={today}"),
        ),
        ("revenue page, admin, this month only", page(admin, f"/admin/revenus/?debut={month_start}&fin={today}")),
        (
            "monthly CSV export, accountant, default period",
            page(accountant, "/admin/compta/revenus/export/mensuel.csv"),
        ),
        ("overview (/admin/), admin", page(admin, "/admin/")),
        ("order list, admin", page(admin, "/admin/commandes/")),
        ("order list, accountant", page(accountant, "/admin/compta/commandes/")),
        ("order list, admin, last page", page(admin, f"/admin/commandes/?page={ORDERS // 25 - 1}")),
    ]
    for label, call in pages:
        row(label, call, counter, args.requests)
    print(f"\nload average (1 min) at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


def row(label, call, counter, count):
    """Print the median time of `call` and the number of statements one call runs."""
    counter.count = 0
    call()
    queries = counter.count
    median, p95 = timed(call, count)
    print(f"{label:56} {median:7.1f} ms {p95:7.1f} ms {queries:>8}")


if __name__ == "__main__":
    main()
