"""Who may open and post the back office's action pages (refunds, cancellations, credits, replies)."""

from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tutoradmin import messaging
from tutoradmin.models import (
    Appointment,
    AuditLog,
    ConversationRead,
    CreditEntry,
    MeetingLink,
    Order,
    OutboxEvent,
    Refund,
    SessionMessage,
    Ticket,
    TicketMessage,
    utcnow,
)

ROLES = ["anonymous", "student", "tutor", "accountant", "staff", "admin"]
OFFICE = {"staff", "admin"}


@pytest.fixture
def rows(db, make):
    """A flagged order with its sessions, a student, a ticket and a failed delivery, for the pages to act on."""
    order = make.booked_order(items=1)
    order.flagged_at, order.flag_reason = utcnow(), "Litige"
    ticket = Ticket(student=order.user, subject="Aide")
    event = OutboxEvent(event_type="signup", payload={}, status="failed", attempts=3, last_error="HTTP 500")
    db.session.add_all([ticket, event])
    db.session.commit()
    return {
        "order": order.id,
        "appointment": order.items[0].appointment.id,
        "student": order.user_id,
        "ticket": ticket.id,
        "event": event.id,
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
    "/admin/commandes/traiter/{order}": {},
}
# Buttons that post straight away, with no page of their own.
OFFICE_POSTS = {
    "/admin/envois-sortants/renvoyer": lambda event_id: {"id": event_id},
    "/admin/envois-sortants/action/": lambda event_id: {"action": "resend", "rowid": event_id},
}
TUTOR_ACTIONS = {
    "/admin/mes-rendez-vous/lien/{appointment}": {"url": "https://zoom.us/j/1"},
    "/admin/mes-rendez-vous/annuler/{appointment}": {"reason": "x"},
    "/admin/mes-rendez-vous/messages/{appointment}": {"body": "Bonjour"},
    "/admin/mes-rendez-vous/presence/{appointment}": {"kind": "no_show", "note": "Absent"},
    "/admin/mes-rendez-vous/deplacer/{appointment}": {"debut": "2099-01-05T10:00:00-05:00", "reason": "x"},
}


def _sign_in(role, login_as):
    if role != "anonymous":
        login_as(role)


def _written(db):
    """Everything an action page could have written."""
    return [
        db.session.scalar(select(func.count()).select_from(model))
        for model in (Refund, CreditEntry, TicketMessage, MeetingLink, AuditLog, SessionMessage, ConversationRead)
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


def _state(db, rows):
    """What the flag and resend actions change: the order's flag and the delivery's status."""
    db.session.expire_all()
    return db.session.get(Order, rows["order"]).flag_reason, db.session.get(OutboxEvent, rows["event"]).status


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(OFFICE_POSTS))
def test_resending_a_delivery_is_for_staff_and_administrators_only(client, db, login_as, rows, role, url):
    _sign_in(role, login_as)
    before = _written(db)

    response = client.post(url, data=OFFICE_POSTS[url](rows["event"]))

    if role in OFFICE:
        assert response.status_code == 302
        assert _state(db, rows) == ("Litige", "pending")
    else:
        assert _refused(response, role)
        assert _state(db, rows) == ("Litige", "failed")
        assert _written(db) == before


@pytest.mark.parametrize("role", ROLES)
def test_the_new_office_actions_refuse_other_roles_and_unknown_ids_alike(client, db, login_as, rows, role):
    _sign_in(role, login_as)
    before = _written(db)
    missing = rows["event"] + rows["order"] + 1000

    responses = [
        client.get(f"/admin/commandes/traiter/{missing}"),
        client.post(f"/admin/commandes/traiter/{missing}"),
        client.post("/admin/envois-sortants/renvoyer", data={"id": missing}),
        client.post("/admin/envois-sortants/renvoyer", data={"id": "abc"}),
        client.get(f"/admin/envois-sortants/details/?id={missing}"),
    ]
    bulk = client.post("/admin/envois-sortants/action/", data={"action": "resend", "rowid": missing})

    if role in OFFICE:
        assert [r.status_code for r in responses] == [404] * len(responses)
        assert bulk.status_code == 302
    else:
        assert all(_refused(r, role) for r in [*responses, bulk])
    assert _state(db, rows) == ("Litige", "failed")
    assert _written(db) == before


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_clears_an_order_flag(client, db, login_as, rows, role):
    _sign_in(role, login_as)

    response = client.post(f"/admin/commandes/traiter/{rows['order']}")

    if role in OFFICE:
        assert response.status_code == 302 and _state(db, rows)[0] is None
    else:
        assert _refused(response, role) and _state(db, rows)[0] == "Litige"


@pytest.mark.parametrize("role", ROLES)
def test_only_the_office_hides_a_session_message(client, db, login_as, rows, role):
    appointment = db.session.get(Appointment, rows["appointment"])
    message = messaging.send(appointment, appointment.student, "Message abusif", utcnow())
    db.session.commit()
    _sign_in(role, login_as)
    audited = db.session.scalar(select(func.count()).select_from(AuditLog))

    response = client.post(f"/admin/rendez-vous/messages/masquer/{message.id}", data={"reason": "Propos insultants"})

    db.session.expire_all()
    hidden = db.session.get(SessionMessage, message.id)
    if role in OFFICE:
        assert response.status_code == 302
        assert hidden.hidden_at is not None and hidden.hidden_reason == "Propos insultants"
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audited + 1
    else:
        assert _refused(response, role)
        assert (hidden.hidden_at, hidden.hidden_reason) == (None, None)
        assert db.session.scalar(select(func.count()).select_from(AuditLog)) == audited
