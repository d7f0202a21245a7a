"""In Chromium, on the demo data: each office role walks the back-office pages it reaches from its menu.

Every page of a role's menu, and from each the first row's record, forms and actions and the page's own
sub-pages (a record's page or a form is opened once, by the first role that has it). Each page must answer
without error (nor any of its assets), log nothing to the console, speak French (the slips of
tests/test_admin_french.py), keep its menu bar on one line at 1280 px, never widen the document at 1280 px
nor on a phone (390 px), and show a record without Flask-Admin's « Filtre » box.
"""

import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from playwright.sync_api import Error as PlaywrightError

from tutoradmin.demo.data import DEMO_PASSWORD

from ..test_admin_access import OWN_URLS
from ..test_admin_french import slips

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]

ROLES = {
    "admin": "admin@4as.ca",
    "staff": "personnel@4as.ca",
    "accountant": "comptable@4as.ca",
    "tutor": "sophie.tremblay@4as.ca",
}
WIDE, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
#: Links that download a file instead of showing a page.
DOWNLOADS = re.compile(r"/export|\.csv|\.xlsx|\.ics|\.zip|/telecharger|/pieces-jointes/|/piece-jointe/")
#: A list's own parameters: sorting, paging, searching or filtering it shows the same page again.
LIST_PARAMETERS = re.compile(r"^(sort|desc|page|page_size|search|flt\d+_\w+|apres|avant|fin)$")
#: Sub-pages followed from one page: enough to reach each kind of page, few enough to stay quick.
LINKS_PER_PAGE = 8

#: What the page shows, in one round trip: its menu bar's rows, the document's width, the links to follow.
MEASURE = """() => {
  const nav = document.querySelector('nav.navbar');
  const items = nav ? [...nav.querySelectorAll('.navbar-brand, .navbar-collapse > .navbar-nav > li')] : [];
  const boxes = items.filter(e => e.offsetParent !== null).map(e => e.getBoundingClientRect());
  const style = nav && getComputedStyle(nav);
  const content = [...document.querySelectorAll('body a[href^="/admin"]')].filter(a => !a.closest('nav.navbar'));
  return {
    nav: nav && {
      height: nav.getBoundingClientRect().height,
      line: Math.max(0, ...boxes.map(b => b.height)) + parseFloat(style.paddingTop) + parseFloat(style.paddingBottom),
      tops: boxes.map(b => b.top + b.height / 2),
    },
    scrollWidth: document.scrollingElement.scrollWidth,
    innerWidth: window.innerWidth,
    filterBox: document.querySelectorAll('#fa_filter, .fa_filter_container').length,
    menu: nav ? [...nav.querySelectorAll('a[href^="/admin"]')].map(a => a.getAttribute('href')) : [],
    rowLinks: [...document.querySelectorAll('.model-list tbody tr:first-child td.list-buttons-column a[href^="/admin"],'
                                           + ' ul.nav-tabs a[href*="/new/"], .record-actions a[href^="/admin"]')]
              .map(a => a.getAttribute('href')),
    pageLinks: content.map(a => a.getAttribute('href')),
  };
}"""


def _same_list(link, entry):
    """Whether `link` shows the list `entry` again, sorted, paged or filtered."""
    parts = urlsplit(link)
    return parts.path == entry and all(LIST_PARAMETERS.match(name) for name, _ in parse_qsl(parts.query))


def _shape(url):
    """A link's kind: its path with ids blanked, and its parameters' names."""
    parts = urlsplit(url)
    return re.sub(r"\d+", "N", parts.path), tuple(sorted(name for name, _ in parse_qsl(parts.query)))


def _serve_asset(route, assets):
    """Each stylesheet, script or font is fetched from the server once, then served again from memory.

    Its status is the server's: a missing asset still fails every page that links it.
    """
    url = route.request.url
    if url not in assets:
        response = route.fetch()
        assets[url] = {"status": response.status, "headers": response.headers, "body": response.body()}
    route.fulfill(**assets[url])


class Walker:
    """One signed-in browser tab of one role; `visit` records what is wrong with each page it opens."""

    def __init__(self, browser, live_server, email, assets):
        self.base = live_server
        self.context = browser.new_context(viewport=WIDE, locale="fr-CA", timezone_id="America/Toronto")
        self.context.route(re.compile(r"/static/|/favicon"), lambda route: _serve_asset(route, assets))
        self.page = self.context.new_page()
        self.page.set_default_timeout(15_000)
        self.events = []
        self.page.on("console", lambda m: m.type == "error" and self.events.append(f"console : {m.text}"))
        self.page.on("pageerror", lambda e: self.events.append(f"script : {e}"))
        self.page.on("requestfailed", self._failed)
        self.page.on("response", lambda r: r.status >= 400 and self.events.append(f"HTTP {r.status} : {r.url}"))
        self.problems = {}
        self.page.goto(f"{live_server}/connexion")
        self.page.fill("input[name=email]", email)
        self.page.fill("input[name=password]", DEMO_PASSWORD)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(f"{live_server}/admin/")

    def _failed(self, request):
        # A request the next page's navigation cancels (a late icon) is not the server's failure.
        if "ERR_ABORTED" not in (request.failure or ""):
            self.events.append(f"échec : {request.url} {request.failure}")

    def visit(self, path):
        """Open `path`; None for a download, else what the page shows (see MEASURE)."""
        self.events.clear()
        try:
            response = self.page.goto(self.base + path)
        except PlaywrightError as error:
            if "Download is starting" in str(error):
                return None
            raise
        shown = self.page.evaluate(MEASURE)
        found = list(self.events)
        if response is None or response.status >= 400:
            found.append(f"page : HTTP {response and response.status}")
        # What the page shows as code (a delivery's payload, an error) is shown as sent: not prose to translate.
        prose = re.sub(r"(?is)<(pre|code)\b.*?</\1>", " ", self.page.content())
        found += [f"texte : {slip}" for slip in slips(prose)]
        found += self._layout(shown)
        found += self._on_a_phone()
        if shown["filterBox"]:
            found.append("boîte « Filtre » sur la page")
        if found:
            self.problems[path] = found
        return shown

    def _on_a_phone(self):
        """The same page on a phone reflows and never widens the document."""
        self.page.set_viewport_size(PHONE)
        try:
            if self.page.locator(".select2-container").count():
                # Select boxes take their width once, when the page is drawn: draw it again at this width.
                self.page.reload()
            elif self.page.locator(".js-plotly-plot").count():
                self.page.wait_for_timeout(300)  # a chart redraws to the new width once the resize settles
            return self._layout(self.page.evaluate(MEASURE))
        finally:
            self.page.set_viewport_size(WIDE)

    def _layout(self, shown):
        found = []
        if shown["scrollWidth"] > shown["innerWidth"]:
            width = f"{shown['scrollWidth']} px pour {shown['innerWidth']} px"
            found.append(f"le document défile de côté ({width})")
        nav = shown["nav"]
        if nav is None:
            return [*found, "pas de menu"]
        if shown["innerWidth"] >= WIDE["width"]:
            centres = nav["tops"]
            if nav["height"] > nav["line"] + 1 or max(centres) - min(centres) > nav["line"] / 2:
                found.append(f"menu sur plus d'une ligne ({nav['height']:.0f} px pour {nav['line']:.0f} px)")
        return found

    def walk(self, opened):
        """The role's menu pages, then from each the links of its first row and its own sub-pages.

        A record's page or a form is the same template for every role that has it: a role opens those
        that no role before it has opened (`opened`, their shapes), and every page of its own menu.
        """
        home = self.visit("/admin/")
        menu = list(dict.fromkeys(link for link in home["menu"] if link != "/admin"))
        opened.update(_shape(link) for link in menu)
        for entry in menu:
            shown = self.visit(entry) if entry != "/admin/" else home
            followed = 0
            own = [link for link in shown["pageLinks"] if urlsplit(link).path.startswith(entry)]
            for link in dict.fromkeys(shown["rowLinks"] + own):
                if followed >= LINKS_PER_PAGE or DOWNLOADS.search(link) or _same_list(link, entry):
                    continue
                if _shape(link) not in opened and self.visit(link) is not None:
                    opened.add(_shape(link))
                    followed += 1
        return menu

    def folds_on_a_phone(self):
        """At phone width the menu hides behind a button that opens it, and its sub-menus open in it."""
        self.page.set_viewport_size(PHONE)
        self.page.goto(f"{self.base}/admin/")
        collapse, toggler = self.page.locator("#admin-navbar-collapse"), self.page.locator(".navbar-toggler")
        if not toggler.is_visible() or collapse.is_visible():
            self.problems["/admin/ (téléphone)"] = ["le menu n'est pas replié derrière son bouton"]
            return
        toggler.click()
        collapse.wait_for(state="visible")
        self.page.locator("#admin-navbar-collapse .dropdown-toggle").first.click()
        self.page.locator("#admin-navbar-collapse .dropdown-menu.show").wait_for(state="visible")

    def close(self):
        self.context.close()


@pytest.fixture
def demo(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output


def test_each_office_role_walks_its_back_office_in_french_on_one_menu_line(browser, live_server, demo):
    problems, menus, assets, opened = {}, {}, {}, set()
    for role, email in ROLES.items():
        walker = Walker(browser, live_server, email, assets)
        try:
            menus[role] = walker.walk(opened)
            walker.folds_on_a_phone()
        finally:
            walker.close()
        problems.update({f"{role} {path}": found for path, found in walker.problems.items()})
    report = [f"{where} — {issue}" for where, found in problems.items() for issue in found]
    assert report == [], "\n".join(report)
    # The walk went through each role's own menu, and from it to records, forms and custom sub-pages.
    assert {role: set(OWN_URLS[role]) - set(menu) for role, menu in menus.items()} == {role: set() for role in ROLES}
    reached = {path for path, _ in opened}
    assert {
        "/admin/cours/details/",
        "/admin/cours/edit/",
        "/admin/cours/new/",
        "/admin/commandes/details/",
        "/admin/remboursements/commande/N",
        "/admin/performance/cours",
        "/admin/parametres/presence",
        "/admin/compta/commandes/details/",
        "/admin/mes-rendez-vous/details/",
        "/admin/mes-rendez-vous/presence/N",
        "/admin/mes-revenus/releve/",
        "/admin/mon-profil/edit/",
    } <= reached
