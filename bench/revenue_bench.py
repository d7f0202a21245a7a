"""Benchmark: the revenue page and the order lists on a large PostgreSQL database, at several sizes.

For each size of `--items` (order items, two per order), empties the database, builds the schema
through the migrations and fills it with revenue_data.py (INSERT … SELECT generate_series), then
times through the Flask test client, signed in as administrator and as accountant:

- the revenue page over its default period (January 1st of last year to today), over every month
  of data and over this month, next to the bare SQL report behind it (reports.revenue_report),
  the monthly CSV export and the overview;
- the order lists: the first page, and the last one reached as a person would, by following the
  list's own « last page » link in the first page's HTML (whichever pagination the list uses),
  with the ratio last / first;

and counts each call's statements (the same over a month as over two years).

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/revenue_bench.py [--items 100000,300000,1000000] [--requests 30] [--keep]

--keep reuses the database of a previous run (one size). Targets (ratios hold on a busy machine,
times do not): revenue page ≤ 300 ms and order list ≤ 150 ms (median) at 320 000 items, the last
page of the order list ≤ 2× its first page; --check exits with status 1 when one is missed.
"""

import argparse
import html
import re
import sys
import time as clock
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

from _common import QueryCounter, analyze, database_url, is_postgresql, load_average, reset_schema, summary
from revenue_data import PASSWORD, build_dataset
from sqlalchemy import func, select

from tutoradmin import create_app, reports
from tutoradmin.extensions import db
from tutoradmin.localtime import local_today
from tutoradmin.models import OrderItem

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/bench"
LAST_LABELS = {"»", "dernière", "dernières", "dernière page", "last"}
LAST_PAGE_RATIO = 2


class PagerLinks(HTMLParser):
    """The links of a page's pagination: (href, rel, text) of every <a> inside a `pagination` list."""

    def __init__(self):
        super().__init__()
        self.depth = 0
        self.links = []
        self._open = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "ul" and (self.depth or "pagination" in (attrs.get("class") or "").split()):
            self.depth += 1
        elif tag == "a" and self.depth:
            self._open = [attrs.get("href") or "", attrs.get("rel") or "", ""]

    def handle_endtag(self, tag):
        if tag == "ul" and self.depth:
            self.depth -= 1
        elif tag == "a" and self._open is not None:
            self.links.append(tuple(self._open))
            self._open = None

    def handle_data(self, data):
        if self._open is not None:
            self._open[2] += data


def last_page_link(page_html):
    """The href of the « last page » link of a list page (rel="last", » or « Dernières »), else None."""
    parser = PagerLinks()
    parser.feed(page_html)
    for href, rel, label in parser.links:
        usable = href and not href.startswith("javascript:")
        if usable and (rel == "last" or html.unescape(label).strip().lower() in LAST_LABELS):
            return html.unescape(href)
    return None


def signed_in_client(app, email):
    client = app.test_client()
    response = client.post("/connexion", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise SystemExit(f"sign-in of {email} → {response.status_code}")
    return client


def page(client, path):
    def get():
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path} → {response.status_code}")
        return response.get_data(as_text=True)

    return get


def run(call, counter, count, warmup):
    """(median ms, p95 ms, statements of one call) of `call`, after `warmup` more calls than the counted one."""
    counter.count = 0
    call()
    statements = counter.count
    for _ in range(warmup):
        call()
    timings = []
    for _ in range(count):
        started = clock.perf_counter()
        call()
        timings.append((clock.perf_counter() - started) * 1000)
    return (*summary(timings), statements)


def measure(app, now, count, warmup):
    """Print every row at the database's current size; returns {label: (median, p95, statements)}."""
    results = {}
    with app.app_context():
        counter = QueryCounter(db.engine)
        items = db.session.scalar(select(func.count()).select_from(OrderItem))
        first = db.session.scalar(select(func.min(OrderItem.starts_at)))
        today = local_today(now)
        default_start, _ = reports.default_range(today)
        whole_start = local_today(first) - timedelta(days=30)

        def aggregates():
            reports.revenue_report(default_start, today)
            db.session.rollback()

        print(f"\n{items} order items from {whole_start} to {today}; {load_average()}")
        print(f"{'measure':58} {'median':>10} {'p95':>10} {'statements':>10}")
        results["bare SQL report, default period"] = run(aggregates, counter, count, warmup)
        db.session.remove()
    # Requests run outside that application context: each one loads its own signed-in user.
    admin = signed_in_client(app, "admin@banc.test")
    accountant = signed_in_client(app, "comptable@banc.test")
    first_page = page(admin, "/admin/commandes/")()
    last = last_page_link(first_page)
    if last is None:
        raise SystemExit("the order list's first page has no « last page » link")
    pages = [
        ("revenue page, default period", page(admin, "/admin/revenus/")),
        (
            "revenue page, all data (accountant)",
            page(accountant, f"/admin/compta/revenus/?debut={whole_start}&fin={today}"),
        ),
        ("revenue page, this month only", page(admin, f"/admin/revenus/?debut={today.replace(day=1)}&fin={today}")),
        (
            "monthly CSV export, default period (accountant)",
            page(accountant, "/admin/compta/revenus/export/mensuel.csv"),
        ),
        ("overview (/admin/)", page(admin, "/admin/")),
        ("order list, first page", page(admin, "/admin/commandes/")),
        ("order list, first page (accountant)", page(accountant, "/admin/compta/commandes/")),
        (f"order list, last page ({last[:40]})", page(admin, last)),
    ]
    for label, call in pages:
        results[label] = run(call, counter, count, warmup)
    for label, (median, p95, statements) in results.items():
        print(f"{label:58} {median:7.1f} ms {p95:7.1f} ms {statements:>10}")
    first_median = results["order list, first page"][0]
    last_median = next(v[0] for k, v in results.items() if k.startswith("order list, last page"))
    print(f"order list: last page / first page = {last_median / first_median:.1f}× (target ≤ {LAST_PAGE_RATIO}×)")
    tab = re.search(r'nav-link active">\s*([^<]*)<', first_page)
    print(f"order list tab: « {html.unescape(tab.group(1)).strip() if tab else '?'} »")
    return items, results


def targets(items, results):
    """The targets this size misses, as lines to print."""
    missed = []
    first = results["order list, first page"][0]
    last = next(v[0] for k, v in results.items() if k.startswith("order list, last page"))
    if last / first > LAST_PAGE_RATIO:
        missed.append(f"{items} items: last page of the order list {last / first:.1f}× its first page")
    if 300_000 <= items <= 350_000:
        if results["revenue page, default period"][0] > 300:
            missed.append(f"{items} items: revenue page {results['revenue page, default period'][0]:.0f} ms > 300 ms")
        if first > 150:
            missed.append(f"{items} items: order list {first:.0f} ms > 150 ms")
    return missed


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", default="320000", help="comma-separated sizes, in order items (e.g. 100000,300000)")
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=2, help="calls not counted, after the one counting statements")
    parser.add_argument("--keep", action="store_true", help="reuse the database built by a previous run")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    url = database_url(DEFAULT_URL)
    if not is_postgresql(url):
        raise SystemExit("the revenue benchmark needs PostgreSQL (BENCH_DATABASE_URL=postgresql://…)")
    app = create_app(
        {"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "banc", "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False}
    )
    now = datetime.now(UTC)
    sizes = [int(size.replace("_", "")) for size in args.items.split(",")]
    missed, table = [], []
    for size in sizes[:1] if args.keep else sizes:
        if not args.keep:
            started = clock.perf_counter()
            reset_schema(app)
            orders = build_dataset(app, now, size - size % 2)
            with app.app_context():
                analyze(db.engine)
            print(f"\n{orders} orders built in {clock.perf_counter() - started:.1f} s")
        items, results = measure(app, now, args.requests, args.warmup)
        table.append((items, results))
        missed += targets(items, results)
    if len(table) > 1:
        print(
            f"\n{'items':>9} {'revenue median':>15} {'revenue p95':>12} {'list first':>11} {'list last':>10}"
            f" {'last/first':>10}"
        )
        for items, results in table:
            revenue = results["revenue page, default period"]
            first = results["order list, first page"][0]
            last = next(v[0] for k, v in results.items() if k.startswith("order list, last page"))
            print(
                f"{items:>9} {revenue[0]:12.1f} ms {revenue[1]:9.1f} ms {first:8.1f} ms {last:7.1f} ms"
                f" {last / first:9.1f}×"
            )
    print(f"\n{load_average()} at the end")
    for line in missed:
        print(f"MISSED {line}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
