"""Plotly as the revenue page loads it: the vendored bundle and its version, gzip, long caching, 304."""

import gzip
import hashlib
import re
from pathlib import Path

import plotly.offline
import pytest

from tutoradmin import reports, vendor_assets
from tutoradmin.views.revenue import PLOTLY_CONFIG, SEPARATORS, figure_of, tables_of

from .test_reports import END, START, build_sales

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor" / "plotly"
PAGES = ["/admin/revenus/", "/admin/compta/revenus/"]
SECURITY = {
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}
#: What a first visit may transfer for Plotly (it was 4.8 MB uncompressed).
BUDGET_BYTES = 400_000


@pytest.fixture
def sales(db, make):
    return build_sales(db, make)


def _script_url(client, page):
    html = client.get(page + "?debut=2026-01-01&fin=2026-05-31").get_data(as_text=True)
    urls = re.findall(r'<script src="(/vendor/[^"]+)"', html)
    assert len(urls) == 1, urls
    return urls[0]


def _current_url(client):
    """The script URL a page would write now."""
    with client.application.test_request_context():
        return vendor_assets.url_of(vendor_assets.PLOTLY)


def _vendored():
    return (VENDOR / "plotly-basic.min.js").read_bytes(), (VENDOR / "plotly-locale-fr.js").read_bytes()


# --- the vendored files -------------------------------------------------------------------


def test_the_vendored_plotly_is_the_one_plotly_py_validates_the_figures_against():
    basic, _locale = _vendored()
    header = re.search(rb"plotly\.js \(basic - minified\) v(\d+\.\d+\.\d+)", basic[:300])
    assert header, "plotly-basic.min.js has lost its version header"
    assert header.group(1).decode() == vendor_assets.PLOTLY_VERSION
    # Figures are checked with plotly.py's schema (test_revenue_view): browser and tests must speak the same Plotly.
    assert plotly.offline.get_plotlyjs_version() == vendor_assets.PLOTLY_VERSION
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    assert set(re.findall(r"\| (\d+\.\d+\.\d+) \|", readme)) == {vendor_assets.PLOTLY_VERSION}
    assert f"V={vendor_assets.PLOTLY_VERSION}\n" in readme


def test_the_vendored_files_are_the_basic_bundle_the_french_locale_and_their_licence():
    basic, locale = _vendored()
    assert b"(basic - minified)" in basic[:300]
    assert locale.startswith(b'var locale={moduleType:"locale",name:"fr",')
    assert b'decimal:",",thousands:" "' in locale
    assert "MIT License" in (VENDOR / "LICENSE").read_text(encoding="utf-8")


# --- the page ----------------------------------------------------------------------------


@pytest.mark.parametrize("page, role", [(PAGES[0], "staff"), (PAGES[1], "accountant")])
def test_each_revenue_page_loads_the_one_versioned_plotly_script(client, login_as, sales, page, role):
    login_as(role)
    url = _script_url(client, page)
    assert re.fullmatch(rf"/vendor/plotly/{re.escape(vendor_assets.PLOTLY_VERSION)}/[0-9a-f]{{16}}\.js", url)


def test_the_office_and_the_accountant_share_one_script_url(client, login_as, sales):
    login_as("staff")
    office = _script_url(client, PAGES[0])
    login_as("accountant")
    assert _script_url(client, PAGES[1]) == office


def test_the_charts_speak_french_canadian(client, login_as, sales):
    login_as("accountant")
    html = client.get(PAGES[1] + "?debut=2026-01-01&fin=2026-05-31").get_data(as_text=True)
    # Plotly's toolbar and dates in French, from the locale served with it.
    assert html.count('"locale": "fr"') == 4
    # Decimal comma and a no-break space between thousands, as babel writes fr-CA amounts (1 234,56 $).
    assert SEPARATORS == ",\u00a0"
    assert html.count('"separators":",\\u00a0"') == 4
    assert PLOTLY_CONFIG["locale"] == "fr"
    for table in tables_of(reports.revenue_report(START, END)):
        assert figure_of(table)["layout"]["separators"] == ",\u00a0"


# --- serving it ----------------------------------------------------------------------------


def test_the_script_is_the_basic_bundle_followed_by_its_french_locale(client):
    response = client.get(_current_url(client))
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    basic, locale = _vendored()
    body = response.get_data()
    assert body == basic.rstrip(b"\n") + b"\n" + locale.rstrip(b"\n") + b"\n"
    assert response.mimetype == "text/javascript"


def test_a_browser_accepting_gzip_gets_it_compressed_under_the_budget(client):
    url = _current_url(client)
    plain = client.get(url).get_data()
    response = client.get(url, headers={"Accept-Encoding": "gzip, deflate, br, zstd"})
    assert response.status_code == 200
    assert response.headers["Content-Encoding"] == "gzip"
    assert response.mimetype == "text/javascript"
    assert gzip.decompress(response.get_data()) == plain
    assert int(response.headers["Content-Length"]) == len(response.get_data()) < BUDGET_BYTES
    assert len(response.get_data()) * 2.5 < len(plain)


@pytest.mark.parametrize("accept", [None, "identity", "gzip;q=0, identity", "br"])
def test_a_client_not_accepting_gzip_gets_the_plain_script(client, accept):
    headers = {"Accept-Encoding": accept} if accept else {}
    response = client.get(_current_url(client), headers=headers)
    assert response.status_code == 200
    assert "Content-Encoding" not in response.headers
    assert response.get_data()[:300] == _vendored()[0][:300]


@pytest.mark.parametrize("accept", [None, "gzip"])
def test_the_script_is_cached_for_a_year_by_anyone_and_varies_with_the_encoding(client, accept):
    response = client.get(_current_url(client), headers={"Accept-Encoding": accept} if accept else {})
    cache_control = response.cache_control
    assert (cache_control.public, cache_control.max_age, cache_control.immutable) == (True, 31_536_000, True)
    assert not cache_control.private and not cache_control.no_cache
    assert "Accept-Encoding" in response.vary
    for name, value in SECURITY.items():
        assert response.headers[name] == value


@pytest.mark.parametrize("accept", [None, "gzip"])
def test_a_browser_holding_the_script_gets_a_304(client, accept):
    url = _current_url(client)
    headers = {"Accept-Encoding": accept} if accept else {}
    first = client.get(url, headers=headers)
    etag = first.headers["ETag"]
    again = client.get(url, headers={**headers, "If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""
    assert again.headers["ETag"] == etag
    assert again.cache_control.max_age == 31_536_000


def test_each_encoding_has_its_own_etag(client):
    url = _current_url(client)
    plain = client.get(url)
    compressed = client.get(url, headers={"Accept-Encoding": "gzip"})
    assert plain.headers["ETag"] != compressed.headers["ETag"]
    # The compressed ETag does not validate the plain script (nor the reverse).
    assert client.get(url, headers={"If-None-Match": compressed.headers["ETag"]}).status_code == 200


def test_the_url_follows_the_content(client, monkeypatch, tmp_path):
    url = _current_url(client)
    digest = url.rsplit("/", 1)[1].removesuffix(".js")
    basic, locale = _vendored()
    assert digest == hashlib.sha256(basic.rstrip(b"\n") + b"\n" + locale.rstrip(b"\n") + b"\n").hexdigest()[:16]
    # Other files, another URL: a browser never keeps an old Plotly under the new address.
    (tmp_path / "vendor" / "plotly").mkdir(parents=True)
    (tmp_path / "vendor" / "plotly" / "plotly-basic.min.js").write_bytes(basic + b"//")
    (tmp_path / "vendor" / "plotly" / "plotly-locale-fr.js").write_bytes(locale)
    monkeypatch.setattr(client.application, "static_folder", str(tmp_path))
    assert _current_url(client) != url


def test_an_outdated_script_url_leads_to_the_current_one(client):
    url = _current_url(client)
    for stale in ("/vendor/plotly/3.0.0/" + url.rsplit("/", 1)[1], url.rsplit("/", 1)[0] + "/0123456789abcdef.js"):
        response = client.get(stale)
        assert response.status_code == 302, stale
        assert response.headers["Location"] == url
        assert "immutable" not in response.headers.get("Cache-Control", "")


@pytest.mark.parametrize("url", ["/vendor/jquery/3.7.1/0123456789abcdef.js", "/vendor/plotly", "/vendor/"])
def test_an_unknown_script_is_not_found(client, url):
    assert client.get(url).status_code == 404


def test_the_script_is_public_like_every_static_file(client):
    # A library, no data: anyone may fetch it, and caches between may keep it.
    assert client.get(_current_url(client)).status_code == 200
    assert client.post(_current_url(client)).status_code == 405
