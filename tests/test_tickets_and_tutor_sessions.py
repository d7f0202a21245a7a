"""Support replies and internal notes; a tutor's own sessions: meeting links and cancellations."""

import html
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tutoradmin import credits, support
from tutoradmin.appointments import AppointmentError, meeting_provider
from tutoradmin.models import (
    MeetingLink,
    OutboxEvent,
    Role,
    Ticket,
    TicketMessage,
    utcnow,
)
from tutoradmin.views.support import UnansweredFilter


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _ticket(db, make, **fields):
    ticket = Ticket(student=fields.pop("student", None) or make.user(), subject="Problème de paiement", **fields)
    db.session.add(ticket)
    db.session.flush()
    return ticket


# Tickets ---------------------------------------------------------------------------------------


def test_a_ticket_is_unanswered_until_the_office_replies_to_the_student(db, make):
    staff = make.user(role=Role.STAFF)
    ticket = _ticket(db, make)
    # The student's own follow-up and an internal note are not answers.
    db.session.add(TicketMessage(ticket=ticket, author_id=ticket.student_id, body="Des nouvelles ?"))
    support.reply(ticket, staff, "Vérifié avec la banque", True, utcnow())
    db.session.commit()
    assert support.unanswered_count() == 1

    support.reply(ticket, staff, "Votre paiement est confirmé.", False, utcnow())
    db.session.commit()

    assert support.unanswered_count() == 0
    assert ticket.status == "en_cours"
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "ticket.replied"))
    assert event.payload["student"]["email"] == ticket.student.email
    assert event.payload["message"]["body"] == "Votre paiement est confirmé."
    assert event.ordering_key == f"ticket:{ticket.id}"


def test_a_students_message_after_the_offices_reply_makes_the_ticket_unanswered_again(db, make):
    staff, student = make.user(role=Role.STAFF), make.user()
    ticket = support.open_ticket(student, "autre", "Question", "Bonjour", utcnow())
    support.reply(ticket, staff, "Bonjour, que puis-je faire ?", False, utcnow())
    db.session.commit()
    assert support.unanswered_count() == 0

    support.student_reply(ticket, student, "Déplacer ma séance.", utcnow())
    # An internal note after it is still no answer to the student.
    support.reply(ticket, staff, "À voir avec le tuteur", True, utcnow())
    db.session.commit()
    assert support.unanswered_count() == 1 and support.is_unanswered(ticket)

    support.reply(ticket, staff, "C'est fait.", False, utcnow())
    db.session.commit()
    assert support.unanswered_count() == 0 and not support.is_unanswered(ticket)


def test_closed_tickets_do_not_count_as_unanswered(db, make):
    _ticket(db, make, status="ferme")
    _ticket(db, make, status="resolu")
    db.session.commit()

    assert support.unanswered_count() == 0


def test_staff_replies_and_adds_a_note_from_the_ticket_page(client, db, make, login_as):
    login_as("staff")
    ticket = _ticket(db, make)
    db.session.commit()
    url = f"/admin/billets/repondre/{ticket.id}"

    assert client.post(url, data={"body": "   "}).status_code == 400
    assert client.post(url, data={"body": "Note pour l'équipe", "internal": "y"}).status_code == 302
    assert client.post(url, data={"body": "Bonjour, c'est réglé."}).status_code == 302

    messages = db.session.scalars(select(TicketMessage).order_by(TicketMessage.id)).all()
    assert [(m.body, m.is_internal) for m in messages] == [
        ("Note pour l'équipe", True),
        ("Bonjour, c'est réglé.", False),
    ]
    assert db.session.scalar(select(func.count()).select_from(OutboxEvent)) == 1
    assert "Note pour l'équipe" in _text(client.get(url))


def test_the_unanswered_filter_lists_only_tickets_waiting_for_a_reply(app, client, db, make, login_as):
    staff = login_as("staff")
    _ticket(db, make, student=make.user(last_name="Attente"))
    answered = _ticket(db, make, student=make.user(last_name="Repondu"))
    support.reply(answered, staff, "Réglé", False, utcnow())
    db.session.commit()
    view = next(v for v in app.extensions["admin"][0]._views if v.endpoint == "tickets")
    index = next(i for i, f in enumerate(view._filters) if isinstance(f, UnansweredFilter))

    assert "Sans réponse" in _text(client.get("/admin/billets/"))
    page = _text(client.get(f"/admin/billets/?flt0_{index}=1"))

    assert "Attente" in page and "Repondu" not in page
    page = _text(client.get(f"/admin/billets/?flt0_{index}=0"))
    assert "Repondu" in page and "Attente" not in page


# A tutor's sessions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "provider"),
    [
        ("https://us02web.zoom.us/j/123", "zoom"),
        ("https://teams.microsoft.com/l/meetup-join/x", "teams"),
        ("https://meet.google.com/abc-defg-hij", "meet"),
        ("https://zoom.us/j/123?pwd=Ab1.x_y-z~", "zoom"),
        (
            "https://teams.microsoft.com/l/meetup-join/19%3ameeting_4as123%40thread.v2/0?context=%7b%22Tid%22%7d",
            "teams",
        ),
    ],
)
def test_meeting_links_are_recognised_by_provider(url, provider):
    assert meeting_provider(url) == provider


@pytest.mark.parametrize(
    "url",
    [
        "http://zoom.us/j/1",
        "https://zoom.us.evil.com/j/1",
        "javascript:alert(1)",
        "",
        # Valid host, then something that could close an HTML attribute or smuggle markup.
        'https://zoom.us/j/1"onmouseover="alert(1)',
        "https://zoom.us/j/1'><script>",
        "https://meet.google.com/abc def",
        "https://zoom.us/j/<b>1</b>",
        "https://teams.microsoft.com/l/x\\y",
        "https://zoom.us/j/1`",
        "https://zoom.us/j/{1}",
        "https://zoom.us/j/1%",
        "https://zoom.us/j/1%zz",
        # Not the host it seems to be: a user name or a port in front of the real host.
        "https://zoom.us@example.com/j/1",
        "https://example.com\\@zoom.us/j/1",
        "https://zoom.us:8443/j/1",
        "https://zoom.us\t/j/1",
    ],
)
def test_other_meeting_links_are_refused(url):
    with pytest.raises(AppointmentError, match="Lien invalide"):
        meeting_provider(url)


def test_a_tutor_adds_a_meeting_link_to_their_own_session_only(client, db, make, login_as):
    user = login_as("tutor")
    mine = make.booked_order(items=1, tutor=user.tutor_profile).items[0].appointment
    theirs = make.booked_order(items=1).items[0].appointment
    db.session.commit()

    bad = client.post(f"/admin/mes-rendez-vous/lien/{mine.id}", data={"url": "http://zoom.us/j/1"})
    assert bad.status_code == 400 and "Lien invalide" in _text(bad)
    quoted = client.post(f"/admin/mes-rendez-vous/lien/{mine.id}", data={"url": 'https://zoom.us/j/1" onclick="x'})
    assert quoted.status_code == 400 and "Lien invalide" in _text(quoted)
    ok = client.post(f"/admin/mes-rendez-vous/lien/{mine.id}", data={"url": "https://zoom.us/j/42"})
    assert ok.status_code == 302
    other = client.post(f"/admin/mes-rendez-vous/lien/{theirs.id}", data={"url": "https://zoom.us/j/43"})
    assert other.status_code == 404

    links = db.session.scalars(select(MeetingLink)).all()
    assert [(link.appointment_id, link.url, link.provider) for link in links] == [
        (mine.id, "https://zoom.us/j/42", "zoom")
    ]


def test_a_tutor_cancels_an_upcoming_session_and_the_student_is_credited(client, db, make, login_as):
    user = login_as("tutor")
    order = make.booked_order(items=1, tutor=user.tutor_profile)
    appointment = order.items[0].appointment
    db.session.commit()

    assert client.post(f"/admin/mes-rendez-vous/annuler/{appointment.id}", data={"reason": ""}).status_code == 400
    response = client.post(f"/admin/mes-rendez-vous/annuler/{appointment.id}", data={"reason": "Malade"})

    assert response.status_code == 302
    db.session.expire_all()
    assert appointment.status == "cancelled" and appointment.cancelled_by_id == user.id
    assert credits.balance_cents(order.user_id) == order.items[0].paid_cents


def test_a_tutor_cannot_cancel_a_past_session_or_another_tutors(client, db, make, login_as):
    user = login_as("tutor")
    past_start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    past = make.booked_order(items=1, tutor=user.tutor_profile, first_start=past_start).items[0].appointment
    theirs = make.booked_order(items=1).items[0].appointment
    db.session.commit()

    client.post(f"/admin/mes-rendez-vous/annuler/{past.id}", data={"reason": "Trop tard"})
    other = client.post(f"/admin/mes-rendez-vous/annuler/{theirs.id}", data={"reason": "Pas à moi"})

    assert other.status_code == 404
    db.session.expire_all()
    assert past.status == "scheduled" and theirs.status == "scheduled"
    assert credits.balance_cents(past.student_id) == 0


def test_the_tutor_list_offers_link_and_cancel_on_upcoming_sessions_only(client, db, make, login_as):
    user = login_as("tutor")
    past_start = utcnow().replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    past = make.booked_order(items=1, tutor=user.tutor_profile, first_start=past_start).items[0].appointment
    upcoming = make.booked_order(items=1, tutor=user.tutor_profile).items[0].appointment
    db.session.commit()

    page = client.get("/admin/mes-rendez-vous/").get_data(as_text=True)

    assert f"/admin/mes-rendez-vous/annuler/{upcoming.id}" in page
    assert f"/admin/mes-rendez-vous/lien/{upcoming.id}" in page
    assert f"/admin/mes-rendez-vous/annuler/{past.id}" not in page
    assert f"/admin/mes-rendez-vous/lien/{past.id}" not in page
