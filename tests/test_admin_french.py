"""The back office speaks French: Flask-Admin's own texts, values by type, and the site's icon."""

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_admin import babel as admin_babel

from tutoradmin.models import Course

from .test_admin_views import PAGES, _filter_args, _sign_in, world  # noqa: F401  (world is a fixture)

CATALOGUE = Path(__file__).resolve().parent.parent / "tutoradmin" / "translations" / "fr" / "LC_MESSAGES"

#: English left by Flask-Admin, its awkward French, and raw values, as they would read on a page.
KNOWN_SLIPS = [
    r"\bEditer\b",
    r"\bExport\b",
    r"\bEdit\b",
    r"\bRecord\b",
    r"\bitems?\b",
    r"\barticles\b",
    r"Filtres réinitialisés",
    r"Reset Filters",
    r"L'objet a bien",
    r"Afficher L'",
    r"Created At",
    r"\bTrue\b",
    r"\bFalse\b",
    r"\bNone\b",
    r"__None\b",
    r"\+00:00",
    r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
]


def visible_text(html):
    """What a reader sees or hears: the page's text and its titles, placeholders and labels, not its code."""
    html = re.sub(r"(?is)<(script|style)\b.*?</\1>", " ", html)
    html = re.sub(r"(?s)<!--.*?-->", " ", html)
    attributes = re.findall(r'\s(?:title|placeholder|aria-label|alt)="([^"]*)"', html)
    text = re.sub(r"(?s)<[^>]+>", " ", html)
    return unescape(" ".join([text, *attributes]))


def slips(html):
    text = visible_text(html)
    return sorted({match.group(0) for pattern in KNOWN_SLIPS for match in re.finditer(pattern, text)})


def details(html):
    """{label: value} of a details page's table."""
    rows = re.findall(r"(?s)<td>\s*<b>(.*?)</b>\s*</td>\s*<td>(.*?)</td>", html)
    return {unescape(label).strip(): " ".join(visible_text(value).split()) for label, value in rows}


def test_the_slip_finder_sees_what_flask_admin_shows_by_default():
    page = '<a title="Export">Editer</a><td>2026-11-29 02:50:37+00:00</td><span>True</span><script>True</script>'
    assert slips(page) == ["+00:00", "2026-11-29 02:50:37", "Editer", "Export", "True"]
    assert slips("<p>Exporter · Modifier l'enregistrement · 25 par page · Oui</p>") == []


@pytest.mark.parametrize("role", list(PAGES))
def test_no_english_or_raw_value_on_a_role_s_lists_details_and_forms(client, world, login, login_as, role):  # noqa: F811
    _sign_in(role, world, login, login_as)
    found = {}
    for url, key, _text in PAGES[role]:
        row_id = world[key].id
        for page in ("", f"details/?id={row_id}", "new/", f"edit/?id={row_id}"):
            response = client.get(url + page)
            if response.status_code == 200 and (words := slips(response.get_data(as_text=True))):
                found[url + page] = words
    assert found == {}


def test_list_pages_use_our_wording_for_flask_admin_s_buttons_and_menus(client, world, login_as):  # noqa: F811
    login_as("accountant")
    text = visible_text(client.get("/admin/compta/coupons/").get_data(as_text=True))
    for wording in (
        "Exporter",
        "Afficher l'enregistrement",
        "Rechercher",
        "25 par page",
        "50 par page",
        "100 par page",
    ):
        assert wording in text
    login_as("staff")
    active = _filter_args(client.get("/admin/cours/").get_data(as_text=True))[("Actif", "vaut")]
    text = visible_text(client.get(f"/admin/cours/?flt0_{active}=1").get_data(as_text=True))
    assert "Modifier l'enregistrement" in text and "Effacer les filtres" in text


def test_create_and_save_messages_are_ours(client, db, login_as):
    login_as("staff")
    data = {"title": "Calcul I", "slug": "mat-1000", "rate_cents": "45", "active": "y"}
    created = client.post("/admin/cours/new/", data=data, follow_redirects=True)
    assert "Enregistrement créé." in unescape(created.get_data(as_text=True))
    course_id = db.session.query(Course.id).scalar()
    saved = client.post(
        f"/admin/cours/edit/?id={course_id}", data={**data, "title": "Calcul II"}, follow_redirects=True
    )
    assert "Enregistrement modifié." in unescape(saved.get_data(as_text=True))


def test_every_page_size_a_view_offers_has_its_french_label(app):
    sizes = {size for view in app.extensions["admin"][0]._views for size in getattr(view, "page_size_options", ())}
    assert sizes
    with app.test_request_context():
        labels = {size: admin_babel.ngettext(f"{size} item", f"{size} items", size) for size in sizes}
    assert labels == {size: f"{size} par page" for size in sizes}


def _messages(catalogue):
    return {
        (m.id if isinstance(m.id, str) else m.id[0]): (m.string if isinstance(m.string, str) else tuple(m.string))
        for m in catalogue
        if m.id
    }


def test_the_committed_compiled_catalogue_matches_its_source():
    with open(CATALOGUE / "admin.po", "rb") as source, open(CATALOGUE / "admin.mo", "rb") as compiled:
        po, mo = read_po(source), read_mo(compiled)
    assert _messages(mo) == _messages(po)


def test_details_pages_show_instants_in_local_time_and_booleans_in_words(client, world, db, login, login_as):  # noqa: F811
    world["rule"].created_at = datetime(2026, 11, 29, 2, 56, tzinfo=UTC)
    coupon = world["coupon"]
    coupon.active, coupon.first_order_only = True, False
    db.session.commit()
    login(world["tutor"].user)
    rule = details(client.get(f"/admin/mes-horaires/details/?id={world['rule'].id}").get_data(as_text=True))
    # 02:56 UTC on the 29th is the evening before in Toronto (EST, UTC−5).
    assert rule["Créé le"] == "28 novembre 2026 à 21 h 56"
    login_as("accountant")
    shown = details(client.get(f"/admin/compta/coupons/details/?id={coupon.id}").get_data(as_text=True))
    assert (shown["Actif"], shown["Première commande seulement"]) == ("Oui", "Non")


def test_the_favicon_answers_at_its_usual_address_and_every_base_template_links_it(client, login_as):
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200
    assert icon.mimetype == "image/vnd.microsoft.icon"
    assert icon.data[:4] == b"\0\0\1\0"  # an icon directory
    svg = client.get("/static/favicon.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"
    login_as("staff")
    for url in ("/", "/admin/"):
        html = client.get(url).get_data(as_text=True)
        assert re.search(r'<link rel="icon" href="/favicon\.ico"', html), url
        assert re.search(r'<link rel="icon" href="/static/favicon\.svg" type="image/svg\+xml">', html), url
