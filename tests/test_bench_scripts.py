"""The benchmark scripts still run: tiny datasets through the migrations, every route answered, data intact."""

import shutil
import socket
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from tutoradmin import create_app
from tutoradmin.extensions import db
from tutoradmin.integrity import broken_invariants

from .conftest import POSTGRES_SKIP_REASON, postgres_url

BENCH = Path(__file__).resolve().parent.parent / "bench"
sys.path.insert(0, str(BENCH))

import booking_bench  # noqa: E402
import revenue_bench  # noqa: E402


def _postgres_bench_url():
    """A database of its own beside TEST_DATABASE_URL's (the benchmarks drop and rebuild the schema)."""
    url = make_url(postgres_url()).set(drivername="postgresql+psycopg")
    bench = url.set(database=f"{url.database}_banc")
    engine = create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": bench.database})
        if not exists:
            conn.execute(text(f'CREATE DATABASE "{bench.database}"'))
    engine.dispose()
    return bench.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def bench_url(request, tmp_path, monkeypatch):
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'banc.sqlite3'}"
    elif not postgres_url():
        pytest.skip(POSTGRES_SKIP_REASON)
    else:
        url = _postgres_bench_url()
    monkeypatch.setenv("BENCH_DATABASE_URL", url)
    return url


def _free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _invariants(url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "banc"})
    with app.app_context():
        broken = broken_invariants()
        db.engine.dispose()
    return broken


def test_booking_bench_measures_every_route_and_leaves_the_data_as_built(bench_url, capsys):
    modes = ["--mode", "inprocess"]
    if bench_url.startswith("sqlite") and shutil.which("wrk"):
        # gunicorn and wrk once, on the database that needs no server.
        modes = ["--mode", "all", "--seconds", "1", "--port", str(_free_port()), "--threads", "2"]
    status = booking_bench.main(["--tiny", "--requests", "2", "--warmup", "0", *modes])

    output = capsys.readouterr().out
    assert status == 0
    rows = output.splitlines()
    for label in ("day slots", "month map", "booking page", "course list", "course page", "add to cart"):
        assert len([row for row in rows if row.startswith(label)]) == (2 if "all" in modes else 1), label
    assert "540 sessions" in output
    if "all" in modes:
        assert "20 visitors" in output and "req/s" in output
        # Slow answers may miss the ratios on a busy machine; an error is a failure anywhere.
        assert not [row for row in rows if row.startswith("MISSED load") and "errors" in row]
    assert _invariants(bench_url) == {}


def test_revenue_bench_follows_the_order_list_to_its_last_page(bench_url, capsys):
    if not bench_url.startswith("postgresql"):
        with pytest.raises(SystemExit, match="needs PostgreSQL"):
            revenue_bench.main(["--items", "400"])
        return
    status = revenue_bench.main(["--items", "400", "--requests", "1", "--warmup", "0"])

    output = capsys.readouterr().out
    assert status == 0
    assert "400 order items" in output
    assert output.count("order list: last page / first page") == 1
    assert _invariants(bench_url) == {}


@pytest.mark.parametrize(
    ("page", "expected"),
    [
        # Flask-Admin's numbered pager: » leads to the last page.
        (
            '<ul class="pagination"><li><a class="page-link" href="javascript:void(0)">&laquo;</a></li>'
            '<li><a class="page-link" href="/admin/commandes/?page=1">2</a></li>'
            '<li><a class="page-link" href="/admin/commandes/?page=6399&amp;sort=0">&raquo;</a></li></ul>',
            "/admin/commandes/?page=6399&sort=0",
        ),
        # Keyset pages: the link marked rel="last".
        (
            '<ul class="pagination flex-wrap"><li><a class="page-link" rel="next" href="/l/?apres=9">Plus anciennes</a>'
            '</li><li><a class="page-link" rel="last" href="/l/?fin=1">Dernières</a></li></ul>',
            "/l/?fin=1",
        ),
        # A list on one page has none.
        ('<ul class="pagination"><li><a class="page-link" href="javascript:void(0)">&raquo;</a></li></ul>', None),
        ('<p><a href="/ailleurs">&raquo;</a></p>', None),
    ],
)
def test_the_last_page_link_is_found_in_either_pager(page, expected):
    assert revenue_bench.last_page_link(page) == expected
