"""What the benchmarks share: the database they build, timings and their summary, the table they print."""

import atexit
import os
import shutil
import statistics
import sys
import tempfile
import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import event, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from tutoradmin.extensions import db  # noqa: E402

MIGRATIONS = ROOT / "migrations"


def database_url(default=None):
    """BENCH_DATABASE_URL with its driver named, else `default`, else a temporary SQLite file (deleted at exit)."""
    url = os.environ.get("BENCH_DATABASE_URL") or default
    if not url:
        folder = tempfile.mkdtemp(prefix="tutoradmin-banc-")
        atexit.register(shutil.rmtree, folder, ignore_errors=True)
        return f"sqlite:///{Path(folder) / 'banc.sqlite3'}"
    url = make_url(url)
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


def is_postgresql(url):
    return url.startswith("postgresql")


def reset_schema(app):
    """Empty the database and build the schema through the migrations (real indexes, triggers, constraints)."""
    with app.app_context():
        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(text("DROP SCHEMA public CASCADE"))
                conn.execute(text("CREATE SCHEMA public"))
        else:
            with db.engine.begin() as conn:
                tables = conn.execute(text("SELECT name FROM sqlite_master WHERE type = 'table'")).scalars().all()
                conn.execute(text("PRAGMA foreign_keys = OFF"))
                for table in tables:
                    if not table.startswith("sqlite_"):
                        conn.execute(text(f'DROP TABLE IF EXISTS "{table}"'))
        upgrade(directory=str(MIGRATIONS))
        db.engine.dispose()


def reset_sequences(conn, tables):
    """After rows inserted with explicit ids, PostgreSQL's sequences start past them (SQLite needs nothing)."""
    if conn.dialect.name != "postgresql":
        return
    for table in tables:
        conn.execute(
            text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT coalesce(max(id), 1) FROM {table}))")
        )


def analyze(engine):
    """Fresh planner statistics, as a database that has lived would have."""
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE" if engine.dialect.name == "postgresql" else "ANALYZE"))


class QueryCounter:
    """Counts the statements the engine sends (a call's cost that a busy machine does not blur)."""

    def __init__(self, engine):
        self.count = 0
        event.listen(engine, "before_cursor_execute", self._seen)

    def _seen(self, *_args):
        self.count += 1


def percentile(timings, fraction):
    """The value below which `fraction` of the sorted `timings` lie (nearest rank)."""
    ordered = sorted(timings)
    return ordered[max(0, min(len(ordered) - 1, round(fraction * len(ordered)) - 1))]


def summary(timings):
    """(median, p95) of a list of milliseconds."""
    return statistics.median(timings), percentile(timings, 0.95)


def timed_ms(call):
    """Run `call`, return (its result, milliseconds taken)."""
    started = clock.perf_counter()
    result = call()
    return result, (clock.perf_counter() - started) * 1000


class Report:
    """Rows of median / p95 / ratio to the trivial route, and the targets they miss."""

    def __init__(self, name, title, trivial_label):
        self.name = name
        self.title = title
        self.trivial_label = trivial_label
        self.rows = []
        self.missed = []

    def add(self, label, timings, target=None, note=""):
        self.rows.append((label, summary(timings), target, note))

    def trivial_median(self):
        return next(stats[0] for label, stats, _target, _note in self.rows if label == self.trivial_label)

    def print(self):
        trivial = self.trivial_median()
        print(f"\n{self.title}")
        print(f"{'route':46} {'median':>10} {'p95':>10} {'ratio':>7} {'target':>7}")
        for label, (median, p95), target, note in self.rows:
            ratio = median / trivial
            verdict = ""
            if target is not None:
                verdict = f"≤ {target:g}×" + ("" if ratio <= target else "  MISSED")
                if ratio > target:
                    self.missed.append(f"{self.name}: {label} {ratio:.1f}× > {target:g}×")
            print(f"{label:46} {median:7.2f} ms {p95:7.2f} ms {ratio:6.1f}× {verdict} {note}".rstrip())
        return self.missed


def load_average():
    return f"load average (1 min) {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
