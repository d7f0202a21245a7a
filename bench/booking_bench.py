"""Benchmark: the booking pages and API, and adding to the cart, as ratios to a trivial route of the same app.

Builds the dataset of booking_data.py (60 tutors, 20 courses, 16 tutors on the busiest one, a
year of sessions with their slot cells) through the migrations, then measures in up to three ways:

- inprocess: the app called through Flask's test client, in this process;
- http: the app served by gunicorn (2 workers), one request at a time from this process;
- load: the same gunicorn under wrk (`apt-get install -y wrk`): the booking mix of booking_mix.lua,
  first one visitor alone for its median, then 20 visitors for its p95 (see load()).

Every route is timed next to `/sante` (no database) in the same rounds, in a shuffled order, so
that a busy machine slows both alike; the targets are ratios of medians: day slots and month map
≤ 4×, booking page, course list and course page ≤ 5×, adding to the cart ≤ 8×. Adding is done
as a browser does it: the booking page gives the session cookie and CSRF token, the add posts
JSON with X-CSRFToken; the item is then removed from the cart (timed apart), which releases its hold,
so that each add targets a free slot and the data does not drift.

Think time under load: 20 closed-loop clients that never pause would keep 2 workers busy
forever and measure the queue, not the app. A visitor of the booking page reads and clicks
every few seconds; each wrk connection waits 0.5 to 1.5 s (1 s on average) between requests,
a brisk visitor, so 20 of them send about 20 requests per second (72 000 an hour), which the
script prints as measured. Target: p95 under load ≤ 4× the median of one visitor alone (the same
think time), and no error (non-2xx/3xx answers, socket errors and timeouts all count).

    .venv/bin/python bench/booking_bench.py [--mode inprocess|http|load|all] [--requests 200] [--cold] [--check]
    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench .venv/bin/python bench/booking_bench.py

Without BENCH_DATABASE_URL, a temporary SQLite file. --keep reuses a database built before.
"""

import argparse
import json
import random
import re
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import _common
from _common import Report, database_url, load_average, reset_schema, timed_ms
from _server import HttpClient, gunicorn, wrk
from booking_data import FULL, TINY, build_dataset
from sqlalchemy import func, select

from tutoradmin import create_app
from tutoradmin.extensions import db
from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import Appointment, CartItem, Hold, SlotLock

LUA_MIX = Path(__file__).resolve().parent / "booking_mix.lua"
TRIVIAL = "trivial route (/sante)"
CSRF_IN_PAGE = re.compile(r'data-csrf="([^"]+)"')
REMOVE_FORM = re.compile(r'action="/panier/retirer/(\d+)">\s*<input type="hidden" name="csrf_token" value="([^"]+)"')
LOAD_CONNECTIONS = 20
LOAD_RATIO = 4


class InProcessClient:
    """One visitor through Flask's test client: cookies kept, CSRF checked as in production."""

    def __init__(self, app):
        self.client = app.test_client()

    def request(self, method, path, body=None, headers=None):
        response = self.client.open(path, method=method, data=body, headers=headers or {})
        return response.status_code, response.get_data(as_text=True)


def expect(client, method, path, status=200, **kwargs):
    answer, text = client.request(method, path, **kwargs)
    if answer != status:
        raise SystemExit(f"{method} {path} → {answer} (expected {status}): {text[:300]!r}")
    return text


class CartAdd:
    """Add a free slot to a guest's cart (timed), then remove it (timed apart), as the booking page does."""

    def __init__(self, client, slug, starts):
        self.client, self.slug, self.starts = client, slug, starts
        self.turn = 0
        page = expect(client, "GET", f"/cours/{slug}/reservation")
        self.csrf = CSRF_IN_PAGE.search(page).group(1)
        self.removals = []

    def __call__(self):
        start = self.starts[self.turn % len(self.starts)]
        self.turn += 1
        body = json.dumps({"cours": self.slug, "tuteur": None, "creneaux": [{"debut": start, "duree": 60}]})
        headers = {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": self.csrf}
        _, elapsed = timed_ms(lambda: expect(self.client, "POST", "/panier/ajouter", body=body, headers=headers))
        forms = REMOVE_FORM.findall(expect(self.client, "GET", "/panier"))
        if len(forms) != 1:
            raise SystemExit(f"the cart should hold exactly the slot just added, it holds {len(forms)}")
        item_id, token = forms[0]
        body = f"csrf_token={token}"
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        _, removal = timed_ms(
            lambda: expect(self.client, "POST", f"/panier/retirer/{item_id}", 302, body=body, headers=headers)
        )
        self.removals.append(removal)
        return elapsed


def visit_days(now):
    """The day the day-slot route asks for (three days ahead) and the month the month map shows."""
    day = (now.astimezone(LOCAL_TZ) + timedelta(days=3)).date()
    month = day.replace(day=1)
    return day, month


def free_starts(client, slug, day):
    """Starts of free 60-minute slots on `day` or the first following day that has some."""
    for offset in range(14):
        asked = day + timedelta(days=offset)
        data = json.loads(expect(client, "GET", f"/api/cours/{slug}/creneaux?date={asked}&duree=60"))
        if data["creneaux"]:
            return [slot["debut"] for slot in data["creneaux"]]
    raise SystemExit(f"no free slot for {slug} in the fortnight after {day}")


def routes(slug, day, month):
    """(label, path, target ratio) of every GET measured."""
    return [
        (TRIVIAL, "/sante", None),
        ("day slots, busiest course, 60 min", f"/api/cours/{slug}/creneaux?date={day}&duree=60", 4),
        ("month map, busiest course, 120 min", f"/api/cours/{slug}/disponibilites?mois={month:%Y-%m}&duree=120", 4),
        ("booking page (/cours/<slug>/reservation)", f"/cours/{slug}/reservation", 5),
        ("course list (/cours)", "/cours", 5),
        ("course page (/cours/<slug>)", f"/cours/{slug}", 5),
    ]


def measure(name, title, client, slug, rounds, warmup=10, seed=1, adder=None):
    """Time every route and the cart add in shuffled rounds, print the table; returns the targets missed.

    `adder`: the visitor who adds to the cart, when not `client` (whose own calendars a cart change refreshes).
    """
    day, month = visit_days(datetime.now(UTC))
    gets = routes(slug, day, month)
    adder = adder or client
    add = CartAdd(adder, slug, free_starts(adder, slug, day))
    calls = [(label, lambda path=path: expect(client, "GET", path)) for label, path, _ in gets]
    calls.append(("add to cart (POST, JSON, CSRF)", add))
    timings = {label: [] for label, _ in calls}
    rng = random.Random(seed)
    for turn in range(warmup + rounds):
        rng.shuffle(calls)
        for label, call in calls:
            elapsed = call() if call is add else timed_ms(call)[1]
            if turn >= warmup:
                timings[label].append(elapsed)
    report = Report(name, title, TRIVIAL)
    for label, _path, target in gets:
        report.add(label, timings[label], target)
    report.add("add to cart (POST, JSON, CSRF)", timings["add to cart (POST, JSON, CSRF)"], 8)
    report.add("remove from cart (POST, form)", add.removals[warmup:])
    report.print()
    return report.missed


def _ratio(value, base):
    return f"{value / base:.1f}×" if base else "—"


def load(port, slug, seconds, think_ms):
    """The booking mix under wrk: one visitor's median, then p95 with 20 visitors; returns the targets missed.

    Both runs are visitors who think between requests, so that they meet the calendar cache alike (each
    day, month and duration is kept a few seconds); the run without pause is printed for its throughput:
    one connection asking again and again finds nearly every answer kept, a cost no visitor sees.
    """
    now = datetime.now(UTC)
    first = (now.astimezone(LOCAL_TZ) + timedelta(days=1)).date()
    days = ",".join(str(first + timedelta(days=i)) for i in range(28))
    months = ",".join(sorted({f"{first + timedelta(days=i):%Y-%m}" for i in (0, 30)}))
    args = [slug, days, months]
    think = [think_ms // 2, think_ms * 3 // 2]
    wrk(port, LUA_MIX, [*args, 0, 0], 2, max(1, seconds // 10))  # warm-up of both workers
    flat_out = wrk(port, LUA_MIX, [*args, 0, 0], 1, max(1, seconds // 3))
    alone = wrk(port, LUA_MIX, [*args, *think], 1, seconds)
    busy = wrk(port, LUA_MIX, [*args, *think], LOAD_CONNECTIONS, seconds)
    ratio = busy["p95_ms"] / alone["median_ms"] if alone["median_ms"] else float("inf")
    print(f"\nbooking mix under wrk ({LUA_MIX.name}), {load_average()}")
    print(f"{'run':46} {'median':>10} {'p95':>10} {'req/s':>7} {'errors':>7}")
    for label, run in (
        ("1 connection, no pause (answers mostly kept)", flat_out),
        (f"1 visitor, think {think[0]}–{think[1]} ms", alone),
        (f"{LOAD_CONNECTIONS} visitors, think {think[0]}–{think[1]} ms", busy),
    ):
        print(
            f"{label:46} {run['median_ms']:7.2f} ms {run['p95_ms']:7.2f} ms {run['rate']:7.1f} {int(run['errors']):>7}"
        )
    print(
        f"p95 under load / one visitor's median: {ratio:.1f}× (target ≤ {LOAD_RATIO}×), "
        f"{int(busy['requests'])} requests; / one visitor's p95: {_ratio(busy['p95_ms'], alone['p95_ms'])}; "
        f"/ the median without pause: {_ratio(busy['p95_ms'], flat_out['median_ms'])}"
    )
    missed = []
    if ratio > LOAD_RATIO:
        missed.append(f"load: p95 {ratio:.1f}× one visitor's median > {LOAD_RATIO}×")
    errors = sum(int(run["errors"]) for run in (flat_out, alone, busy))
    if errors:
        missed.append(f"load: {errors} errors")
    return missed


def check_no_drift(app, sessions):
    """No hold, cart item or extra slot cell left behind by the adds and removals."""
    with app.app_context():
        holds = db.session.scalar(select(func.count()).select_from(Hold))
        items = db.session.scalar(select(func.count()).select_from(CartItem))
        locks = db.session.scalar(select(func.count()).select_from(SlotLock).where(SlotLock.hold_id.is_not(None)))
        count = db.session.scalar(select(func.count()).select_from(Appointment))
        db.session.remove()
    if holds or items or locks or count != sessions:
        raise SystemExit(f"data drifted: {holds} holds, {items} cart items, {locks} held cells, {count} sessions")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["inprocess", "http", "load", "all"], default="all")
    parser.add_argument("--requests", type=int, default=200, help="rounds of every route, after the warm-up")
    parser.add_argument("--warmup", type=int, default=10, help="rounds not counted, first")
    parser.add_argument("--seconds", type=int, default=30, help="duration of the loaded wrk run")
    parser.add_argument("--think-ms", type=int, default=1000, help="a visitor's average pause between requests")
    parser.add_argument("--port", type=int, default=5055)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--keep", action="store_true", help="reuse the database built by a previous run")
    parser.add_argument("--tiny", action="store_true", help="a tiny dataset (smoke test)")
    parser.add_argument("--cold", action="store_true", help="in-process again, with CALENDAR_CACHE_SECONDS=0")
    parser.add_argument("--check", action="store_true", help="exit with status 1 when a target is missed")
    args = parser.parse_args(argv)
    url = database_url()
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "banc-d-essai"})
    if not args.keep:
        _, elapsed = timed_ms(lambda: reset_schema(app))
        with app.app_context():
            (slug, sessions), building = timed_ms(lambda: build_dataset(TINY if args.tiny else FULL))
            _common.analyze(db.engine)
            db.session.remove()
        size = TINY if args.tiny else FULL
        print(
            f"{app.config['SQLALCHEMY_DATABASE_URI'].split('@')[-1]}: schema {elapsed / 1000:.1f} s, dataset "
            f"{building / 1000:.1f} s — {size.tutors} tutors, {size.courses} courses, {size.busiest_tutors} "
            f"tutors on {slug}, {sessions} sessions"
        )
    slug = "cours-0"
    with app.app_context():
        sessions = db.session.scalar(select(func.count()).select_from(Appointment))
        db.session.remove()
    missed = []
    if args.mode in ("inprocess", "all"):
        title = f"in-process (Flask test client), {load_average()}"
        missed += measure(
            "in-process", title, InProcessClient(app), slug, args.requests, args.warmup, adder=InProcessClient(app)
        )
        check_no_drift(app, sessions)
    if args.cold and args.mode in ("inprocess", "all"):
        # The same routes with every calendar computed afresh (what the visitor who has just changed
        # their cart gets, and every visitor with CALENDAR_CACHE_SECONDS=0): informative, no target.
        cold = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "banc-d-essai", "CALENDAR_CACHE_SECONDS": 0})
        title = f"in-process, cold (CALENDAR_CACHE_SECONDS=0), {load_average()}"
        measure("in-process, cold", title, InProcessClient(cold), slug, args.requests, args.warmup)
        check_no_drift(cold, sessions)
    if args.mode in ("http", "load", "all"):
        with gunicorn(url, args.port, threads=args.threads):
            if args.mode in ("http", "all"):
                title = f"HTTP, gunicorn 2 workers × {args.threads} threads, {load_average()}"
                missed += measure(
                    "http", title, HttpClient(args.port), slug, args.requests, args.warmup, adder=HttpClient(args.port)
                )
                check_no_drift(app, sessions)
            if args.mode in ("load", "all"):
                missed += load(args.port, slug, args.seconds, args.think_ms)
    for line in missed:
        print(f"MISSED {line}")
    return 1 if args.check and missed else 0


if __name__ == "__main__":
    sys.exit(main())
