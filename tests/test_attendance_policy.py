"""The attendance policy: versions written by administrators, checked, audited, and its page."""

import html
import re

import pytest
from sqlalchemy import select

from tutoradmin import attendance
from tutoradmin.attendance import AttendanceError, change_policy, current_policy, policy_values, shares
from tutoradmin.models import DEFAULT_POLICY, AttendancePolicy, AuditLog

from .shopping import row_counts

URL = "/admin/parametres/presence"
NEW = {
    "late_cancel_window_hours": "12",
    "late_cancel_credit_percent": "25",
    "no_show_credit_percent": "10",
    "late_cancel_tutor_percent": "75",
    "no_show_tutor_percent": "80",
}


def _text(response):
    return " ".join(html.unescape(response.get_data(as_text=True)).split())


def test_the_defaults_are_in_force_until_a_version_is_written(db):
    assert policy_values(current_policy()) == DEFAULT_POLICY
    assert [shares(kind, current_policy()) for kind in ("present", "no_show", "late_cancel")] == [
        (100, 0),
        (100, 0),
        (50, 50),
    ]


def test_an_administrator_writes_a_new_version_which_is_audited(db, make, now):
    admin = make.user(role="admin")
    change_policy(admin, NEW, now)
    db.session.commit()

    policy = current_policy()
    assert policy_values(policy) == {name: int(value) for name, value in NEW.items()}
    assert (policy.created_by_id, policy.created_at) == (admin.id, now)
    assert [shares(kind, policy) for kind in ("present", "no_show", "late_cancel")] == [(100, 0), (80, 10), (75, 25)]
    [entry] = db.session.scalars(select(AuditLog).where(AuditLog.action == "attendance_policy.changed")).all()
    assert (entry.actor_id, entry.target_type, entry.target_id) == (admin.id, "attendance_policies", policy.id)
    assert entry.before == DEFAULT_POLICY
    assert entry.after == policy_values(policy)
    # Versions are kept, the latest first.
    change_policy(admin, {**NEW, "no_show_tutor_percent": 100}, now)
    assert [p.no_show_tutor_percent for p, _author in attendance.policy_history()] == [100, 80]


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        (
            "late_cancel_window_hours",
            "169",
            "Délai d'annulation tardive (heures) : entrez un nombre entier entre 0 et 168.",
        ),
        ("late_cancel_credit_percent", "101", "entre 0 et 100"),
        ("no_show_credit_percent", "-1", "entre 0 et 100"),
        ("late_cancel_tutor_percent", "12.5", "nombre entier"),
        ("no_show_tutor_percent", "", "nombre entier"),
        ("no_show_tutor_percent", None, "nombre entier"),
        ("no_show_tutor_percent", True, "nombre entier"),
        ("no_show_tutor_percent", "٣", "nombre entier"),
    ],
)
def test_figures_out_of_range_are_refused(db, make, now, name, value, message):
    with pytest.raises(AttendanceError, match=re.escape(message)):
        change_policy(make.user(role="admin"), {**NEW, name: value}, now)
    assert db.session.scalar(select(AttendancePolicy.id)) is None


@pytest.mark.parametrize("role", ["staff", "accountant", "tutor", "student"])
def test_only_an_administrator_changes_the_policy(db, make, now, role):
    with pytest.raises(AttendanceError, match="Seul un administrateur"):
        change_policy(make.user(role=role), NEW, now)


def test_a_version_identical_to_the_one_in_force_is_refused(db, make, now):
    with pytest.raises(AttendanceError, match="Aucun changement"):
        change_policy(make.user(role="admin"), DEFAULT_POLICY, now)


# --- the page ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("role", "status"),
    [("anonymous", 302), ("student", 403), ("tutor", 403), ("accountant", 403), ("staff", 403), ("admin", 200)],
)
def test_only_administrators_open_the_policy_page(client, login_as, role, status):
    if role != "anonymous":
        login_as(role)

    assert client.get(URL).status_code == status
    assert client.post(URL, data=NEW).status_code == (302 if role == "admin" else status)
    assert (current_policy().id is not None) == (role == "admin")


def test_the_page_shows_the_policy_and_saves_a_new_version(client, db, login_as):
    admin = login_as("admin", first_name="Alice", last_name="Admin")

    page = _text(client.get(URL))
    assert "s'applique aux séances notées <strong>après</strong> son enregistrement" in page
    assert 'value="50"' in page and "Valeurs par défaut, jamais modifiées." in page
    response = client.post(URL, data=NEW)

    assert response.status_code == 302
    page = _text(client.get(response.headers["Location"]))
    assert "Politique de présence enregistrée" in page
    assert "Alice Admin" in page and "en vigueur" in page
    assert current_policy().created_by_id == admin.id
    settings = _text(client.get("/admin/parametres/"))
    assert "Absence : 10 % en crédit, 80 % payé au tuteur." in settings


def test_bad_figures_on_the_page_are_refused_and_change_nothing(client, db, login_as):
    login_as("admin")
    before = row_counts(db)

    response = client.post(URL, data={**NEW, "no_show_credit_percent": "cent"})

    assert response.status_code == 400
    assert "Crédit à l'étudiant pour une absence (%) : entrez un nombre entier entre 0 et 100." in _text(response)
    assert row_counts(db) == before
