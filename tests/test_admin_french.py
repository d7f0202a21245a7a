"""The back office speaks French: Flask-Admin's own texts, values by type, and the site's icon."""

import re
from datetime import UTC, datetime
from html import unescape
from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po
from flask_admin import babel as admin_babel

from tutoradmin.models import Course, TutorPayout

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
    # A field name or a month as stored: « amount_cents : 80000 », « 2026-10 ».
    r"\b[a-z]+_cents\b",
    r"(?<![\w-])(?:19|20)\d\d-(?:0[1-9]|1[0-2])\b",
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
    assert slips(page) == ["+00:00", "2026-11", "2026-11-29 02:50:37", "Editer", "Export", "True"]
    assert slips("<td>amount_cents : 80000</td><td>Mois : 2026-10</td>") == ["2026-10", "amount_cents"]
    assert slips("<td>Confirmation VIR-202610-01 ou VIR-2026-10</td><td>octobre 2026</td>") == []
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


def _paid(db, rows):
    """The world's payout (January 2030), paid on February 5th in Toronto (the evening, 02:30 UTC the 6th)."""
    payout = rows["payout"]
    payout.status, payout.confirmation_number = "paid", "VIR-2030-01"
    payout.paid_at = datetime(2030, 2, 6, 2, 30, tzinfo=UTC)
    db.session.commit()
    return payout


def test_payout_months_and_payment_days_read_in_words(client, world, db, login, login_as):  # noqa: F811
    payout = _paid(db, world)
    login_as("accountant")
    listed = visible_text(client.get("/admin/compta/paiements-tuteurs/").get_data(as_text=True))
    shown = details(client.get(f"/admin/compta/paiements-tuteurs/details/?id={payout.id}").get_data(as_text=True))
    login(world["tutor"].user)
    mine = visible_text(client.get("/admin/mes-revenus/").get_data(as_text=True))

    assert "janvier 2030" in listed and "5 février 2030" in listed and "Trier par Année" not in listed
    assert (shown["Mois"], shown["Payé le"], shown["Tuteur"]) == ("janvier 2030", "5 février 2030", "Marie Curie")
    assert "janvier 2030" in mine and "5 février 2030" in mine
    # The payment day, never the time the payment was recorded.
    assert "21 h 30" not in " ".join([listed, mine, *shown.values()]).replace("\u00a0", " ")


def test_the_payout_list_sorts_and_filters_by_month_and_exports_iso_months(client, world, db, make, login_as):  # noqa: F811
    later = TutorPayout(tutor=world["tutor"], year=2030, month=11, minutes=60, earnings_cents=2500, amount_cents=2500)
    db.session.add(later)
    db.session.commit()
    login_as("accountant")
    url = "/admin/compta/paiements-tuteurs/"
    html = client.get(url).get_data(as_text=True)
    sort = re.search(r'href="[^"]*[?&;]sort=(\d+)[^"]*" title="Trier par Mois"', html).group(1)
    ascending = visible_text(client.get(f"{url}?sort={sort}").get_data(as_text=True))
    descending = visible_text(client.get(f"{url}?sort={sort}&desc=1").get_data(as_text=True))
    assert ascending.index("janvier 2030") < ascending.index("novembre 2030")
    assert descending.index("novembre 2030") < descending.index("janvier 2030")

    month_filter = _filter_args(html)[("Mois", "vaut")]
    assert "novembre" in html and "novembre 2030" in visible_text(
        client.get(f"{url}?flt0_{month_filter}=11").get_data(as_text=True)
    )
    assert "janvier 2030" not in visible_text(client.get(f"{url}?flt0_{month_filter}=11").get_data(as_text=True))

    exported = client.get(f"{url}export/csv/").get_data(as_text=True)
    header, *rows = exported.lstrip("\ufeff").splitlines()
    assert "Mois" in header.split(",") and "Année" not in header
    assert sorted(row.split(",")[header.split(",").index("Mois")] for row in rows) == ["2030-01", "2030-11"]


def test_the_statement_pages_name_the_month_in_words(client, world, db, login, login_as):  # noqa: F811
    _paid(db, world)
    login_as("staff")
    tutor = world["tutor"]
    one = visible_text(client.get(f"/admin/paiements-tuteurs/?tuteur={tutor.id}&mois=2030-01").get_data(as_text=True))
    month = visible_text(client.get("/admin/paiements-tuteurs/?mois=2030-01").get_data(as_text=True))
    login(tutor.user)
    mine = visible_text(client.get("/admin/mes-revenus/releve/?mois=2030-01").get_data(as_text=True))
    for text in (one, month, mine):
        assert "janvier 2030" in text and slips(text) == []
    assert "Payé le 5 février 2030" in one and "Payé le 5 février 2030" in month
    login_as("staff")
    # The month is picked by its name (a month input shows 2030-01 in browsers without one).
    html = client.get("/admin/paiements-tuteurs/?mois=2030-01").get_data(as_text=True)
    assert '<option value="2030-01" selected>janvier 2030</option>' in html and 'type="month"' not in html


def test_email_fields_are_labelled_adresse_courriel(client, world, login, login_as):  # noqa: F811
    login_as("admin")
    pages = {
        url: visible_text(client.get(url).get_data(as_text=True))
        for url in ("/admin/etudiants/", "/admin/utilisateurs/", "/admin/commandes/", "/admin/billets/")
    }
    for url, text in pages.items():
        assert "Adresse courriel" in text, url
        assert not re.search(r"(?<!Adresse )\bCourriel\b", text), url
    edit = client.get(f"/admin/tuteurs/edit/?id={world['tutor'].id}").get_data(as_text=True)
    assert "Adresse courriel de contact" in visible_text(edit)
    login(world["tutor"].user)
    profile = visible_text(client.get(f"/admin/mon-profil/details/?id={world['tutor'].id}").get_data(as_text=True))
    assert "Adresse courriel de contact" in profile


def _attendance_links(html, appointment):
    return re.findall(rf'href="[^"]*/presence/{appointment.id}\b[^"]*"', html)


def test_the_appointment_page_offers_attendance_exactly_where_its_list_row_does(client, world, db, make, login_as):  # noqa: F811
    future = world["appointment"]
    ended = make.appointment(
        tutor=world["tutor"], course=world["course"], starts_at=datetime(2026, 3, 2, 15, tzinfo=UTC), status="completed"
    )
    cancelled = make.appointment(
        starts_at=datetime(2026, 3, 3, 15, tzinfo=UTC),
        status="cancelled",
        cancelled_at=datetime(2026, 3, 1, tzinfo=UTC),
    )
    db.session.commit()
    login_as("staff")
    listed = client.get("/admin/rendez-vous/").get_data(as_text=True)
    offered = {}
    for appointment in (future, ended, cancelled):
        page = client.get(f"/admin/rendez-vous/details/?id={appointment.id}").get_data(as_text=True)
        offered[appointment.id] = (
            bool(_attendance_links(listed, appointment)),
            bool(_attendance_links(page, appointment)),
        )
    assert offered == {future.id: (False, False), ended.id: (True, True), cancelled.id: (False, False)}
    # The cancel action follows the same rule: not for a cancelled session.
    page = client.get(f"/admin/rendez-vous/details/?id={cancelled.id}").get_data(as_text=True)
    assert f"/annuler/{cancelled.id}" not in page and f"/annuler/{cancelled.id}" not in listed
    assert f"/annuler/{future.id}" in client.get(f"/admin/rendez-vous/details/?id={future.id}").get_data(as_text=True)
