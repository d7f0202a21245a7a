"""The revenue benchmark's dataset on PostgreSQL, built by INSERT … SELECT generate_series statements.

Two years and a month of sales: `items` order items, two per order, paid evenly over the span,
their payments, one partial refund in 40 orders and a full one in 97, one session per item
(refunded ones cancelled, past ones completed and marked present, as migration 0010 requires)
with its 30-minute slot cells, and sessions the office booked without payment. Each tutor's
sessions are spread evenly over the span on the half-hour grid, at least 2 h 30 apart, so none
overlap (the exclusion constraint of migration 0003 holds); tutors grow with the sales.
"""

from datetime import timedelta

from _common import reset_sequences
from sqlalchemy import text

from tutoradmin.extensions import db
from tutoradmin.models import Role, User

PASSWORD = "banc-d-essai-revenus"
COURSES = 20
SPAN_DAYS = 760
UNPAID_SESSIONS = 3_000
#: Sessions of one tutor over the span at most: 760 days / 5 000 = one every 3 h 39.
SESSIONS_PER_TUTOR = 5_000
UNPAID_TUTORS = 3

# Each statement fills one table; :start and :span place the orders in time.
DATASET = [
    """INSERT INTO users (id, email, password_hash, role, status, first_name, last_name, created_at, session_token)
       SELECT g, 'eleve' || g || '@banc.test', 'x', 'student', 'active', 'Élève', 'N' || g, :start, 'banc-e' || g
       FROM generate_series(1, :students) g""",
    """INSERT INTO users (id, email, password_hash, role, status, first_name, last_name, created_at, session_token)
       SELECT :students + g, 'tuteur' || g || '@banc.test', 'x', 'tutor', 'active', 'Tuteur', 'T' || g, :start,
              'banc-t' || g
       FROM generate_series(1, :tutors + :unpaid_tutors) g""",
    """INSERT INTO courses (id, slug, title, full_name, description, rate_cents, active, created_at)
       SELECT g, 'cours-' || g, 'Cours ' || g, 'Cours numéro ' || g, '', 4500 + (g % 4) * 500, true, :start
       FROM generate_series(1, :courses) g""",
    # Tutor t teaches course ((t - 1) % courses) + 1: tutors / courses tutors per course.
    """INSERT INTO tutors (id, user_id, display_name, bio, hourly_rate_cents, priority, active, created_at)
       SELECT g, :students + g, 'Tuteur ' || g, '', 2200 + (g % 8) * 100, g % 20, true, :start
       FROM generate_series(1, :tutors + :unpaid_tutors) g""",
    """INSERT INTO tutor_courses (tutor_id, course_id, created_at)
       SELECT g, ((g - 1) % :courses) + 1, :start FROM generate_series(1, :tutors + :unpaid_tutors) g""",
    """CREATE UNLOGGED TABLE bench_items (n int, j int, id int, course_id int, tutor_id int, duration int,
       price int, discount int, credit int, paid_at timestamptz, starts_at timestamptz)""",
    # Two sessions per order; the r-th of a tutor's `count` sessions starts a day after the span's
    # start plus r / count of the span, rounded to the half hour.
    """INSERT INTO bench_items
       SELECT n, j, id, c, t, d, price, discount, credit, paid_at,
              :grid + interval '1 day' + round((row_number() OVER w - 1) * (:span / 1800.0) / count(*) OVER tutor)
                                         * interval '30 minutes'
       FROM (SELECT n, j, (n - 1) * 2 + j AS id, c, c + :courses * (((n / :courses) + j) % (:tutors / :courses)) AS t,
                    d, (rate * d + 30) / 60 AS price,
                    CASE WHEN n % 10 = 0 THEN (rate * d + 30) / 60 * 15 / 100 ELSE 0 END AS discount,
                    CASE WHEN n % 13 = 0 THEN 1000 ELSE 0 END AS credit, paid_at
             FROM generate_series(1, :orders) n, generate_series(1, 2) j,
                  LATERAL (SELECT ((n * 7 + j * 3) % :courses) + 1 AS c,
                                  (ARRAY[60, 90, 120])[((n * 5 + j) % 3) + 1] AS d,
                                  :start + (n - 1) * (:span / :orders) * interval '1 second' AS paid_at) f,
                  LATERAL (SELECT 4500 + (c % 4) * 500 AS rate) r) items
       WINDOW tutor AS (PARTITION BY t), w AS (tutor ORDER BY id)""",
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
    # One session per item: refunded ones and one in 25 cancelled, past ones completed and marked present.
    """INSERT INTO appointments (order_item_id, student_id, tutor_id, course_id, starts_at, ends_at,
                                duration_minutes, status, cancelled_at, completed_at, created_at,
                                attendance, attendance_marked_at, tutor_share_percent, student_credit_percent)
       SELECT i.id, o.user_id, i.tutor_id, i.course_id, i.starts_at, i.ends_at, i.duration_minutes, s.status,
              CASE WHEN s.status = 'cancelled' THEN o.paid_at + interval '1 day' END,
              CASE WHEN s.status = 'completed' THEN i.ends_at END, o.paid_at,
              CASE WHEN s.status = 'completed' THEN 'present' END,
              CASE WHEN s.status = 'completed' THEN i.ends_at END,
              CASE WHEN s.status = 'completed' THEN 100 END,
              CASE WHEN s.status = 'completed' THEN 0 END
       FROM order_items i JOIN orders o ON o.id = i.order_id,
            LATERAL (SELECT CASE
                WHEN o.status = 'refunded' OR (o.status = 'partially_refunded' AND i.id = o.id * 2)
                     OR (o.id % 25 = 0 AND i.id = o.id * 2 - 1) THEN 'cancelled'
                WHEN i.ends_at < :now THEN 'completed' ELSE 'scheduled' END AS status) s""",
    # Sessions the office booked without payment, with tutors of their own, 18 hours apart.
    """INSERT INTO appointments (student_id, tutor_id, course_id, starts_at, ends_at, duration_minutes,
                                status, completed_at, created_at, attendance, attendance_marked_at,
                                tutor_share_percent, student_credit_percent)
       SELECT (g % :students) + 1, t, ((t - 1) % :courses) + 1, s, s + interval '1 hour', 60,
              'completed', s + interval '1 hour', s - interval '1 day', 'present', s + interval '1 hour', 100, 0
       FROM generate_series(1, :unpaid) g,
            LATERAL (SELECT :tutors + (g % :unpaid_tutors) + 1 AS t,
                            :grid + round((g - 1) * (:span / 1800.0) / :unpaid) * interval '30 minutes' AS s) f""",
    # Every occupying session owns its 30-minute cells (SlotLock).
    """INSERT INTO slot_locks (tutor_id, cell_start, appointment_id)
       SELECT a.tutor_id, cell, a.id
       FROM appointments a,
            LATERAL generate_series(a.starts_at, a.ends_at - interval '30 minutes', interval '30 minutes') cell
       WHERE a.status IN ('scheduled', 'completed')""",
    "DROP TABLE bench_items",
]
PLAIN_INDEXES = """
    SELECT i.indexname, i.indexdef FROM pg_indexes i
    JOIN pg_class c ON c.relname = i.indexname AND c.relkind = 'i'
    WHERE i.schemaname = 'public' AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = c.oid)
"""
SEQUENCES = ["users", "courses", "tutors", "orders", "order_items", "payments", "refunds", "refund_items"]


def build_dataset(app, now, items):
    """Fill the emptied database with `items` order items (an even number); returns the number of orders."""
    orders = items // 2
    tutors = COURSES * max(3, -(-items // (SESSIONS_PER_TUTOR * COURSES)))
    start = now - timedelta(days=SPAN_DAYS)
    params = {
        "start": start,
        "grid": start.replace(minute=0, second=0, microsecond=0),
        "now": now,
        "span": SPAN_DAYS * 86400,
        "orders": orders,
        "students": max(3_000, orders // 50),
        "tutors": tutors,
        "unpaid_tutors": UNPAID_TUTORS,
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
            reset_sequences(conn, [*SEQUENCES, "appointments", "slot_locks"])
        for role, email in ((Role.ADMIN, "admin@banc.test"), (Role.ACCOUNTANT, "comptable@banc.test")):
            user = User(email=email, role=role.value, first_name="Banc", last_name=role.value)
            user.set_password(PASSWORD)
            db.session.add(user)
        db.session.commit()
        db.session.remove()
    return orders
