"""The tutor's « Mes rendez-vous » tabs and filters, and « Mon profil » with its calendar feed."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest

from tutoradmin.models import Tutor, User, utcnow

LIST_URL = "/admin/mes-rendez-vous/"
PROFILE_URL = "/admin/mon-profil/"
FEED_URL = "/admin/mon-profil/calendrier"


def _text(response):
    return unescape(response.get_data(as_text=True))


def _listed(response):
    """Ids of the sessions a list page shows, in the order of its rows."""
    assert response.status_code == 200
    ids = []
    for found in re.findall(r"details/\?id=(\d+)", response.get_data(as_text=True)):
        if int(found) not in ids:
            ids.append(int(found))
    return ids


def _filter_args(html):
    """{(filter name, operation): URL argument} of a list page's filters."""
    data = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', html).group(1)
    groups = json.loads(unescape(data))
    return {(name, f["operation"]): f["arg"] for name, items in groups.items() for f in items}


# --- « Mes rendez-vous » ----------------------------------------------------------------------


@pytest.fixture
def sessions(db, make, login):
    """The signed-in tutor's sessions, upcoming and past in shuffled order, and a colleague's."""
    now = utcnow().replace(second=0, microsecond=0)
    now = now.replace(minute=now.minute // 30 * 30)  # sessions start on the half-hour grid
    tutor = make.tutor()
    rows = {
        "in_3_days": make.appointment(tutor=tutor, starts_at=now + timedelta(days=3)),
        "in_1_day": make.appointment(tutor=tutor, starts_at=now + timedelta(days=1)),
        # Started 30 minutes ago: not over yet, so still upcoming.
        "under_way": make.appointment(tutor=tutor, starts_at=now - timedelta(minutes=30)),
        "in_2_days": make.appointment(
            tutor=tutor, starts_at=now + timedelta(days=2), status="cancelled", cancelled_at=now
        ),
        "5_days_ago": make.appointment(tutor=tutor, starts_at=now - timedelta(days=5)),
        "1_day_ago": make.appointment(tutor=tutor, starts_at=now - timedelta(days=1)),
        "9_days_ago": make.appointment(tutor=tutor, starts_at=now - timedelta(days=9), status="completed"),
    }
    absent = rows["5_days_ago"]
    absent.status, absent.completed_at, absent.attendance = "completed", absent.ends_at, "no_show"
    absent.attendance_marked_at, absent.tutor_share_percent, absent.student_credit_percent = absent.ends_at, 100, 0
    make.appointment(starts_at=now + timedelta(days=1, hours=2))
    make.appointment(starts_at=now - timedelta(days=1, hours=2))
    db.session.commit()
    login(tutor.user)
    return {name: row.id for name, row in rows.items()}


def test_upcoming_sessions_come_first_soonest_first_by_default(client, sessions):
    expected = [sessions[n] for n in ("under_way", "in_1_day", "in_2_days", "in_3_days")]
    assert _listed(client.get(LIST_URL)) == expected
    assert _listed(client.get(f"{LIST_URL}?periode=a-venir")) == expected
    assert _listed(client.get(f"{LIST_URL}?periode=inconnue")) == expected


def test_past_sessions_come_most_recent_first(client, sessions):
    response = client.get(f"{LIST_URL}?periode=passees")

    assert _listed(response) == [sessions[n] for n in ("1_day_ago", "5_days_ago", "9_days_ago")]
    html = _text(response)
    assert 'aria-current="page">Passées</a>' in html
    assert "Absent" in html


def test_a_column_sort_and_the_filters_stay_within_the_tab(client, sessions):
    html = _text(client.get(f"{LIST_URL}?periode=passees"))
    args = _filter_args(html)
    status, attendance = args[("Statut", "vaut")], args[("Présence", "vaut")]

    # Sorting by start, ascending, keeps to the past sessions.
    ascending = _listed(client.get(f"{LIST_URL}?periode=passees&sort=0"))
    assert ascending == [sessions[n] for n in ("9_days_ago", "5_days_ago", "1_day_ago")]
    assert _listed(client.get(f"{LIST_URL}?periode=passees&flt0_{status}=scheduled")) == [sessions["1_day_ago"]]
    assert _listed(client.get(f"{LIST_URL}?periode=passees&flt0_{attendance}=no_show")) == [sessions["5_days_ago"]]
    assert _listed(client.get(f"{LIST_URL}?flt0_{status}=cancelled")) == [sessions["in_2_days"]]
    # The list's own links (sorts, filters, pages) keep the tab.
    assert "periode=passees" in re.search(r'<form id="filter_form".*?</form>', html, re.S).group(0)


def test_a_past_sessions_own_page_opens_whatever_the_tab(client, sessions):
    response = client.get(f"{LIST_URL}details/?id={sessions['9_days_ago']}")

    assert response.status_code == 200 and "Présent" in _text(response)


# --- « Mon profil » -----------------------------------------------------------------------------


@pytest.fixture
def me(db, make, login):
    """The signed-in tutor (two courses, one inactive) and a colleague."""
    tutor = make.tutor(
        display_name="Sophie Tremblay",
        bio="Enseignante de mathématiques.",
        contact_email="sophie@exemple.ca",
        phone="514 555-0123",
        hourly_rate_cents=3250,
        courses=[make.course(title="Calcul I", sigle="MAT-1000"), make.course(title="Latin", active=False)],
    )
    other = make.tutor(display_name="Jean Collègue", bio="Biographie du collègue", phone="418 555-9999")
    db.session.commit()
    login(tutor.user)
    return tutor, other


def test_the_profile_shows_what_the_office_keeps_and_what_the_tutor_may_change(client, me):
    tutor, _ = me

    html = _text(client.get(PROFILE_URL))

    for text in (
        "Sophie Tremblay",
        tutor.user.email,
        "sophie@exemple.ca",
        "514 555-0123",
        "Enseignante de mathématiques.",
        "Calcul I (MAT-1000)",
        "cours inactif",
        "Actif : vos disponibilités sont offertes aux étudiants.",
        "32,50",
        "Créer mon adresse de calendrier",
    ):
        assert text in html, text
    assert f"/admin/mon-profil/edit/?id={tutor.id}" in html
    assert "/admin/mes-cours/" in html
    assert "Jean Collègue" not in html and "418 555-9999" not in html and "Biographie du collègue" not in html


def test_a_tutor_changes_their_presentation_and_contact(client, db, me):
    tutor, _ = me
    data = {
        "bio": "  Doctorante en mathématiques.  ",
        "contact_email": " Sophie.T@Exemple.CA ",
        "phone": "+1 514 555-0199 poste 12",
        "display_name": "Autre nom",
        "hourly_rate_cents": "99",
        "active": "",
    }

    response = client.post(f"/admin/mon-profil/edit/?id={tutor.id}", data=data)

    assert response.status_code == 302 and response.headers["Location"].endswith(PROFILE_URL)
    db.session.expire_all()
    saved = db.session.get(Tutor, tutor.id)
    assert (saved.bio, saved.contact_email, saved.phone) == (
        "Doctorante en mathématiques.",
        "sophie.t@exemple.ca",
        "+1 514 555-0199 poste 12",
    )
    assert (saved.display_name, saved.hourly_rate_cents, saved.active) == ("Sophie Tremblay", 3250, True)
    assert "Profil enregistré." in _text(client.get(PROFILE_URL))


def test_empty_contact_fields_are_cleared(client, db, me):
    tutor, _ = me

    response = client.post(f"/admin/mon-profil/edit/?id={tutor.id}", data={"bio": "", "contact_email": "", "phone": ""})

    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(Tutor, tutor.id)
    assert (saved.bio, saved.contact_email, saved.phone) == ("", None, None)


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("contact_email", "pas-un-courriel", "Courriel de contact invalide"),
        ("contact_email", "a b@exemple.ca", "Courriel de contact invalide"),
        ("phone", "appelez-moi", "Numéro de téléphone invalide"),
        ("phone", "12", "Numéro de téléphone invalide"),
        ("bio", "x" * 2001, "La présentation ne peut dépasser 2000 caractères."),
        ("bio", "nul\x00", "caractère nul"),
    ],
)
def test_a_bad_profile_value_is_refused_in_french_and_nothing_changes(client, db, me, field, value, message):
    tutor, _ = me
    data = {"bio": "Nouvelle présentation", "contact_email": "nouveau@exemple.ca", "phone": "514 555-0100"}

    response = client.post(f"/admin/mon-profil/edit/?id={tutor.id}", data={**data, field: value})

    assert response.status_code == 400 and message in _text(response)
    db.session.expire_all()
    saved = db.session.get(Tutor, tutor.id)
    assert (saved.bio, saved.contact_email, saved.phone) == (
        "Enseignante de mathématiques.",
        "sophie@exemple.ca",
        "514 555-0123",
    )


def test_a_tutor_cannot_open_or_change_a_colleagues_profile(client, db, me):
    _, other = me

    assert client.get(f"/admin/mon-profil/edit/?id={other.id}").status_code == 404
    assert client.post(f"/admin/mon-profil/edit/?id={other.id}", data={"bio": "piraté"}).status_code == 404
    assert client.get(f"/admin/mon-profil/details/?id={other.id}").status_code == 404
    assert client.get("/admin/mon-profil/edit/?id=pas-un-nombre").status_code == 404
    assert client.get("/admin/mon-profil/edit/").status_code == 404
    db.session.expire_all()
    assert db.session.get(Tutor, other.id).bio == "Biographie du collègue"


def test_the_feed_address_is_created_renewed_and_revoked_from_the_profile(client, db, me):
    tutor, _ = me
    user_id = tutor.user_id

    def token():
        db.session.expire_all()
        return db.session.get(User, user_id).calendar_token

    assert client.post(FEED_URL, data={"action": "create"}).status_code == 302
    first = token()
    assert first
    page = _text(client.get(PROFILE_URL))
    assert f"/calendrier/{first}.ics" in page and "Désactiver l'adresse" in page
    feed = client.get(f"/calendrier/{first}.ics")
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"

    assert client.post(FEED_URL, data={"action": "renew"}).status_code == 302
    second = token()
    assert second and second != first
    assert client.get(f"/calendrier/{first}.ics").status_code == 404
    assert client.get(f"/calendrier/{second}.ics").status_code == 200

    assert client.post(FEED_URL, data={"action": "revoke"}).status_code == 302
    assert token() is None
    assert "Adresse du calendrier désactivée" in _text(client.get(PROFILE_URL))
    assert client.get(f"/calendrier/{second}.ics").status_code == 404


def test_an_unknown_feed_action_changes_nothing(client, db, me):
    tutor, _ = me

    response = client.post(FEED_URL, data={"action": "supprimer"})

    assert response.status_code == 302
    assert "Action inconnue." in _text(client.get(PROFILE_URL))
    db.session.expire_all()
    assert db.session.get(User, tutor.user_id).calendar_token is None
    assert client.get(FEED_URL).status_code == 405


@pytest.mark.parametrize("role", ["student", "staff", "accountant"])
def test_only_tutors_manage_a_feed_from_the_profile(client, db, login_as, role):
    user = login_as(role)

    assert client.post(FEED_URL, data={"action": "create"}).status_code == 403
    db.session.expire_all()
    assert db.session.get(User, user.id).calendar_token is None
