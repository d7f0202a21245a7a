"""Who may open and post the back office's action pages (refunds, cancellations, credits, replies)."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tutoradmin.models import AuditLog, CreditEntry, MeetingLink, Refund, Ticket, TicketMessage

ROLES = ["anonymous", "student", "tutor", "accountant", "staff", "admin"]
OFFICE = {"staff", "admin"}


@pytest.fixture
def rows(db, make):
    """An order with its sessions, a student and a ticket, for the pages to act on."""
    order = make.booked_order(items=1)
    ticket = Ticket(student=order.user, subject="Aide")
    db.session.add(ticket)
    db.session.commit()
    return {
        "order": order.id,
        "appointment": order.items[0].appointment.id,
        "student": order.user_id,
        "ticket": ticket.id,
    }


OFFICE_ACTIONS = {
    "/admin/remboursements/commande/{order}": {"amount": "10", "reason": "x", "request_key": "a" * 32},
    "/admin/rendez-vous/annuler/{appointment}": {"reason": "x"},
    "/admin/rendez-vous/reserver": {
        "student_id": "1",
        "course_id": "1",
        "tutor_id": "1",
        "starts_at": "2099-01-05 10:00",
        "duration_minutes": "60",
    },
    "/admin/etudiants/credit/{student}": {"direction": "credit", "amount": "50", "reason": "x"},
    "/admin/billets/repondre/{ticket}": {"body": "Bonjour"},
}
TUTOR_ACTIONS = {
    "/admin/mes-rendez-vous/lien/{appointment}": {"url": "https://zoom.us/j/1"},
    "/admin/mes-rendez-vous/annuler/{appointment}": {"reason": "x"},
}


def _sign_in(role, login_as):
    if role != "anonymous":
        login_as(role)


def _written(db):
    """Everything an action page could have written."""
    return [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Refund, CreditEntry, TicketMessage, MeetingLink, AuditLog)
    ]


def _refused(response, role):
    if role == "anonymous":
        return response.status_code == 302 and urlsplit(response.headers["Location"]).path == "/connexion"
    return response.status_code == 403


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("template", list(OFFICE_ACTIONS))
def test_office_action_pages_admit_staff_and_administrators_only(client, db, login_as, rows, role, template):
    _sign_in(role, login_as)
    url = template.format(**rows)
    before = _written(db)

    page = client.get(url)
    posted = client.post(url, data=OFFICE_ACTIONS[template])

    if role in OFFICE:
        assert page.status_code == 200
    else:
        assert _refused(page, role) and _refused(posted, role)
        db.session.expire_all()
        assert _written(db) == before


@pytest.mark.parametrize("role", ["anonymous", "student", "accountant", "staff", "admin"])
@pytest.mark.parametrize("template", list(TUTOR_ACTIONS))
def test_tutor_action_pages_refuse_every_other_role(client, db, login_as, rows, role, template):
    _sign_in(role, login_as)
    url = template.format(**rows)
    before = _written(db)

    assert _refused(client.get(url), role)
    assert _refused(client.post(url, data=TUTOR_ACTIONS[template]), role)
    db.session.expire_all()
    assert _written(db) == before


@pytest.mark.parametrize("template", list(TUTOR_ACTIONS))
def test_a_tutor_cannot_act_on_another_tutors_session(client, db, login_as, rows, template):
    login_as("tutor")
    url = template.format(**rows)
    before = _written(db)

    assert client.get(url).status_code == 404
    assert client.post(url, data=TUTOR_ACTIONS[template]).status_code == 404
    db.session.expire_all()
    assert _written(db) == before
