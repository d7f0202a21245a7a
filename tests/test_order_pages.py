"""Order lists page by cursor in their default order: every order once, the last page as cheap as the first."""

import html
import re
from datetime import timedelta

import pytest

from tutoradmin.models import Order, utcnow
from tutoradmin.views import keyset
from tutoradmin.views.keyset import INVALID_CURSOR, encode_cursor
from tutoradmin.views.orders import OrderColumns

from .query_counts import count_queries

LISTS = [("admin", "/admin/commandes/"), ("accountant", "/admin/compta/commandes/")]
PAGE_SIZE = 25


@pytest.fixture
def orders(db, make):
    """60 orders over 45 moments (some created at the same instant); every third one refunded."""
    course = make.course()
    tutor = make.tutor(courses=[course])
    student = make.user()
    start = utcnow().replace(microsecond=0) - timedelta(days=90)
    made = [
        make.order(
            user=student,
            course=course,
            tutor=tutor,
            status="refunded" if n % 3 == 0 else "paid",
            created_at=start + timedelta(hours=n * 3 // 4),
        )
        for n in range(60)
    ]
    db.session.commit()
    # Newest first, the id breaking ties.
    return [o.id for o in sorted(made, key=lambda o: (o.created_at, o.id), reverse=True)]


def _ids(page):
    return [int(i) for i in re.findall(r'class="col-id">\s*(\d+)', page)]


def _links(page):
    return {rel: html.unescape(href) for rel, href in re.findall(r'class="page-link" rel="(\w+)" href="([^"]+)"', page)}


def _get(client, url):
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:500]
    page = response.get_data(as_text=True)
    return _ids(page), _links(page), page


def _walk(client, url, rel):
    """Follow `rel` links from `url` to the end: the ids of each page visited."""
    pages = []
    while url:
        ids, links, _page = _get(client, url)
        pages.append(ids)
        url = links.get(rel)
        assert len(pages) < 20
    return pages


@pytest.mark.parametrize(("role", "url"), LISTS)
def test_walking_forward_visits_every_order_once_newest_first(client, login_as, orders, role, url):
    login_as(role)
    pages = _walk(client, url, "next")
    assert [len(p) for p in pages] == [25, 25, 10]
    assert [i for p in pages for i in p] == orders


@pytest.mark.parametrize(("role", "url"), LISTS)
def test_walking_back_from_the_last_page_visits_every_order_once(client, login_as, orders, role, url):
    login_as(role)
    _ids_first, links, _page = _get(client, url)
    pages = _walk(client, links["last"], "prev")
    assert [len(p) for p in pages] == [10, 25, 25]
    assert [i for p in reversed(pages) for i in p] == orders


def test_the_last_page_shows_the_oldest_orders_and_no_way_further(client, login_as, orders):
    login_as("admin")
    ids, links, page = _get(client, "/admin/commandes/?fin=1")
    assert ids == orders[-10:]
    assert set(links) == {"first", "prev"}
    assert "Plus anciennes" in page and "Dernières" in page


def test_the_first_page_offers_older_and_last_only(client, login_as, orders):
    login_as("admin")
    ids, links, page = _get(client, "/admin/commandes/")
    assert ids == orders[:25]
    assert set(links) == {"next", "last"}
    assert "Premières" in page and "Plus récentes" in page


def test_filters_and_search_are_kept_from_page_to_page(client, login_as, orders, db):
    login_as("accountant")
    refunded = [i for i in orders if db.session.get(Order, i).status == "refunded"]
    # The first filter is the status.
    assert OrderColumns.column_filters[0].column.key == "status"
    status_filter = "flt0_0=refunded"
    url = f"/admin/compta/commandes/?{status_filter}&page_size=25"
    pages = _walk(client, url, "next")
    assert [i for p in pages for i in p] == refunded
    assert [len(p) for p in pages] == [20]
    ids, links, _page = _get(client, url + "&fin=1")
    assert ids == refunded and links == {}
    email = db.session.get(Order, orders[0]).user.email
    pages = _walk(client, f"/admin/compta/commandes/?search={email}&{status_filter}", "next")
    assert [i for p in pages for i in p] == refunded


def test_linkskeep_the_filters(client, login_as, orders):
    login_as("admin")
    _ids_first, links, _page = _get(client, "/admin/commandes/?flt0_0=paid&page_size=25")
    assert "flt0_0=paid" in links["next"] and "page_size=25" in links["next"]
    assert "flt0_0=paid" in links["last"]


@pytest.mark.parametrize(
    "junk",
    [
        "apres=xyz",
        "avant=%C3%A9t%C3%A9",
        "apres=" + "A" * 500,
        "avant=bm90LWEtZGF0ZXw1",
        "apres=MjAyNi0wMS0wMXw1",
        "apres=",
    ],
)
def test_a_junk_cursor_shows_the_first_page_with_a_french_message(client, login_as, orders, junk):
    login_as("admin")
    ids, _links, page = _get(client, f"/admin/commandes/?{junk}")
    assert ids == orders[:25]
    assert html.escape(INVALID_CURSOR, quote=False) in page or INVALID_CURSOR in html.unescape(page)


def test_a_cursor_of_any_row_starts_right_after_it(client, login_as, orders, db):
    login_as("admin")
    pivot = db.session.get(Order, orders[30])
    ids, _links, _page = _get(client, f"/admin/commandes/?apres={encode_cursor(pivot.created_at, pivot.id)}")
    assert ids == orders[31:56]
    ids, _links, _page = _get(client, f"/admin/commandes/?avant={encode_cursor(pivot.created_at, pivot.id)}")
    assert ids == orders[5:30]


def test_another_sort_keeps_the_numbered_pages(client, login_as, orders):
    login_as("admin")
    ids, links, page = _get(client, "/admin/commandes/?sort=0&page=1")
    assert len(ids) == 25 and "Plus anciennes" not in page and links == {}
    assert 'class="pagination"' in page


@pytest.mark.parametrize(("role", "url"), LISTS)
def test_the_last_page_reads_from_the_other_end_without_offset(client, login_as, orders, db, role, url):
    login_as(role)
    with count_queries(db) as first:
        client.get(url)
    with count_queries(db, parameters=True) as last:
        assert client.get(url + "?fin=1").status_code == 200
    _ids, links, _page = _get(client, url)
    with count_queries(db, parameters=True) as middle:
        client.get(links["next"])
    orders_selects = [(s, p) for s, p in last + middle if s.startswith("SELECT orders.id")]
    assert len(orders_selects) == 2
    for statement, params in orders_selects:
        # SQLite's dialect always writes « OFFSET ? » after a LIMIT, with 0; PostgreSQL's writes none.
        assert "OFFSET" not in statement.upper() or (db.engine.dialect.name == "sqlite" and params[-1] == 0)
    assert len(last) == len(first)


def test_a_list_that_fits_on_one_page_shows_no_pager(client, login_as, orders):
    login_as("admin")
    ids, links, page = _get(client, "/admin/commandes/?page_size=100")
    assert ids == orders and links == {}
    assert "Dernières" not in page and "Plus anciennes" not in page


def _count_shown(page):
    """What the list's tab says in brackets: « Liste (60) »."""
    return html.unescape(re.search(r'nav-link active">\s*Liste \(([^)]*)\)', page).group(1))


@pytest.mark.parametrize(("role", "url"), LISTS)
def test_past_the_cap_the_count_reads_plus_de_and_every_page_still_follows(
    client, login_as, orders, monkeypatch, role, url
):
    monkeypatch.setattr(keyset, "COUNT_CAP", 5)
    login_as(role)
    ids, links, page = _get(client, url)
    assert _count_shown(page) == "plus de 5"
    assert ids == orders[:25] and set(links) == {"next", "last"}
    ids, _links, page = _get(client, links["next"])
    assert ids == orders[25:50] and _count_shown(page) == "plus de 5"
    # The remainder is unknown past the cap: the last page is a whole page of the oldest orders.
    ids, links, page = _get(client, links["last"])
    assert ids == orders[35:] and set(links) == {"first", "prev"}
    assert _count_shown(page) == "plus de 5"
    pages = _walk(client, links["prev"], "prev")
    assert pages == [orders[10:35], orders[:10]]


def test_up_to_the_cap_the_count_and_last_page_are_exact(client, login_as, orders, monkeypatch):
    login_as("admin")
    monkeypatch.setattr(keyset, "COUNT_CAP", 60)
    ids, _links, page = _get(client, "/admin/commandes/?fin=1")
    assert _count_shown(page) == "60" and ids == orders[-10:]
    monkeypatch.setattr(keyset, "COUNT_CAP", 59)
    ids, _links, page = _get(client, "/admin/commandes/?fin=1")
    assert _count_shown(page) == "plus de 59" and ids == orders[-25:]


def test_the_capped_count_counts_the_filtered_and_searched_orders(client, login_as, orders, db, monkeypatch):
    login_as("accountant")
    email = db.session.get(Order, orders[0]).user.email
    url = f"/admin/compta/commandes/?search={email}&flt0_0=refunded"
    monkeypatch.setattr(keyset, "COUNT_CAP", 20)
    assert _count_shown(_get(client, url)[2]) == "20"
    monkeypatch.setattr(keyset, "COUNT_CAP", 19)
    assert _count_shown(_get(client, url)[2]) == "plus de 19"


def test_the_cap_shows_with_a_french_thousands_separator():
    assert str(keyset.CappedCount(10_000)) == "plus de 10\u00a0000"
    assert keyset.CappedCount(10_000) == 10_001


@pytest.mark.parametrize(("role", "url"), LISTS)
def test_the_count_statement_reads_at_most_the_cap_plus_one_row(client, login_as, orders, db, monkeypatch, role, url):
    monkeypatch.setattr(keyset, "COUNT_CAP", 7)
    login_as(role)
    for page_url in (url, url + "?fin=1", url + "?flt0_0=paid"):
        with count_queries(db, parameters=True) as statements:
            assert client.get(page_url).status_code == 200
        counts = [(s, p) for s, p in statements if "count(*)" in s.lower()]
        assert len(counts) == 1, statements
        statement, params = counts[0]
        assert "LIMIT" in statement.upper() and 8 in (params.values() if isinstance(params, dict) else params)


def test_another_sort_keeps_the_exact_count(client, login_as, orders, monkeypatch):
    monkeypatch.setattr(keyset, "COUNT_CAP", 5)
    login_as("admin")
    _ids, _links, page = _get(client, "/admin/commandes/?sort=0")
    assert _count_shown(page) == "60"
