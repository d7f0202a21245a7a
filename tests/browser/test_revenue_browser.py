"""In Chromium, on the demo data: the revenue page's first visit downloads Plotly compressed, draws
interactive charts in French and fits a phone; the next visit takes Plotly from the browser's cache."""

import pytest
from flask import request, request_finished
from playwright.sync_api import expect

from tutoradmin.views.revenue import EMPTY

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]

PAGE = "/admin/compta/revenus/"
#: What the first visit may transfer for Plotly, headers included (4.8 MB before).
BUDGET_BYTES = 400_000


@pytest.fixture
def demo(app, db):
    """The demo data of `flask seed-demo`: nineteen months of sales, refunds and sessions."""
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def script_hits(app):
    """(status, path) of every request the server answers for a vendored script."""
    hits = []

    def record(sender, response, **extra):
        if request.path.startswith("/vendor/"):
            hits.append((response.status_code, request.path))

    # A signal, not an after_request hook: the app may already have served requests.
    request_finished.connect(record, app)
    yield hits
    request_finished.disconnect(record, app)


def log_in(page, live_server, email):
    page.goto(f"{live_server}/connexion")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "demo-4as-tutorat")
    page.click("button[type=submit]")
    page.wait_for_url(f"{live_server}/admin/")


def _plotly_responses(page):
    responses = []
    page.on("response", lambda response: responses.append(response) if "/vendor/plotly/" in response.url else None)
    return responses


def test_the_first_visit_downloads_plotly_compressed_and_the_next_one_takes_it_from_the_cache(
    page, live_server, demo, script_hits
):
    log_in(page, live_server, "comptable@4as.ca")
    responses = _plotly_responses(page)

    page.goto(f"{live_server}{PAGE}")
    charts = page.locator(".js-plotly-plot")
    expect(charts).to_have_count(4)
    [response] = responses
    assert response.status == 200
    assert response.headers["content-encoding"] == "gzip"
    assert "immutable" in response.headers["cache-control"]
    sizes = response.request.sizes()
    transferred = sizes["responseBodySize"] + sizes["responseHeadersSize"]
    assert 100_000 < transferred < BUDGET_BYTES
    assert script_hits == [(200, response.url.removeprefix(live_server))]

    # Drawn and interactive: the toolbar in French, and a hover label over the monthly chart.
    monthly = page.locator("#mensuel .js-plotly-plot")
    expect(monthly.locator(".main-svg").first).to_be_visible()
    box = monthly.locator(".nsewdrag").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.8, box["y"] + box["height"] * 0.5)
    hover = monthly.locator(".hoverlayer .legend")
    expect(hover).to_be_visible()
    # Amounts with a decimal comma and a space between thousands: « 2 490,62 $ ».
    expect(hover).to_contain_text(",")
    assert "\u00a0$" in hover.text_content() or " $" in hover.text_content()
    expect(monthly.locator(".modebar-btn[data-title='Réinitialiser les axes']")).to_have_count(1)

    # The next visit: Plotly comes from the browser's cache, the server is not asked again.
    page.goto(f"{live_server}/admin/")
    page.goto(f"{live_server}{PAGE}")
    expect(page.locator(".js-plotly-plot")).to_have_count(4)
    expect(page.locator("#mensuel .main-svg").first).to_be_visible()
    # (At most a revalidation answered 304, should the browser ask: the body went out once.)
    assert [status for status, _path in script_hits].count(200) == 1, script_hits
    assert all(status == 304 for status, _path in script_hits[1:]), script_hits


def test_on_a_phone_the_page_fits_its_width_and_tables_scroll_in_their_box(browser, live_server, demo):
    context = browser.new_context(locale="fr-CA", timezone_id="America/Toronto", viewport={"width": 390, "height": 844})
    page = context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    try:
        log_in(page, live_server, "comptable@4as.ca")
        page.goto(f"{live_server}{PAGE}")
        expect(page.locator(".js-plotly-plot")).to_have_count(4)
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
        chart = page.locator("#mensuel .js-plotly-plot .main-svg").first.bounding_box()
        assert chart["width"] <= 390
        # The monthly table is wider than the phone: it scrolls sideways inside its own box.
        assert page.locator("#mensuel").evaluate(
            """section => [section.querySelector('.table-responsive'), section.querySelector('table')].some(
                box => box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX === 'auto')"""
        )
    finally:
        context.close()
    assert not errors, errors


def test_a_period_without_sales_shows_a_message_and_loads_no_plotly(page, live_server, demo):
    log_in(page, live_server, "comptable@4as.ca")
    responses = _plotly_responses(page)

    page.goto(f"{live_server}{PAGE}?debut=2010-01-01&fin=2010-03-31")

    expect(page.locator("#mensuel [role=status]")).to_have_text(EMPTY)
    expect(page.locator(".js-plotly-plot")).to_have_count(0)
    expect(page.locator("#presences tbody")).to_have_text(EMPTY)
    assert responses == []
