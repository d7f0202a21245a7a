"""The student's support tickets: opening, following and closing them; what the office sees and is told."""

import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import support
from tutoradmin.attachments import Upload
from tutoradmin.models import Attachment, OutboxEvent, OutboxEventType, Ticket, TicketMessage, TicketStatus

from .shopping import count, row_counts
from .test_event_payloads import queued
from .test_student_sessions import _text

TICKETS = "/tableau-de-bord/billets"
NEW = f"{TICKETS}/nouveau"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


@pytest.fixture
def student(make):
    return make.user(first_name="Camille", last_name="Roy")


@pytest.fixture
def staff(make):
    return make.user(role="staff", first_name="Sophie", last_name="Gagnon")


def _open(student, now, subject="Reçu introuvable", body="Où trouver mon reçu ?", **links):
    return support.open_ticket(student, "paiement", subject, body, now, **links)


def _form(**fields):
    return {"category": "reservation", "subject": "Séance manquée", "body": "Mon tuteur n'est pas venu.", **fields}


def _file(data, name):
    return (io.BytesIO(data), name)


# --- opening a ticket ---------------------------------------------------------------------------


def test_a_student_opens_a_ticket_about_their_session_with_a_file_and_the_office_is_told(
    client, db, make, login, student
):
    appointment = make.appointment(student=student)
    db.session.commit()
    login(student)

    response = client.post(NEW, data=_form(appointment=str(appointment.id), pieces_jointes=[_file(PDF, "capture.pdf")]))

    ticket = db.session.scalar(select(Ticket))
    assert response.status_code == 302 and response.location.endswith(f"{TICKETS}/{ticket.id}")
    assert (ticket.student_id, ticket.category, ticket.subject, ticket.appointment_id, ticket.status) == (
        student.id,
        "reservation",
        "Séance manquée",
        appointment.id,
        "ouvert",
    )
    [message] = ticket.messages
    assert message.body == "Mon tuteur n'est pas venu." and message.author_id == student.id
    assert [(a.filename, a.content_type) for a in message.attachments] == [("capture.pdf", "application/pdf")]
    [event] = queued(db, OutboxEventType.TICKET_CREATED)
    assert event.payload["ticket"]["id"] == ticket.id and event.ordering_key == f"ticket:{ticket.id}"
    page = _text(client.get(response.location))
    assert "Mon tuteur n'est pas venu." in page and "capture.pdf" in page
    assert f"/pieces-jointes/{message.attachments[0].id}" in page
    assert support.unanswered_count() == 1


def _options(page, name):
    """{value: selected} of the select `name` in an HTML page."""
    select_html = page.split(f'name="{name}"')[1].split("</select>")[0]
    return {
        value: bool(selected) for selected, value in re.findall(r'<option( selected)? value="([^"]*)"', select_html)
    }


def test_the_form_offers_the_students_own_sessions_and_orders_and_names_the_one_it_was_opened_from(
    client, db, make, login, student
):
    mine = make.booked_order(items=1, user=student)
    theirs = make.booked_order(items=1)
    appointment = mine.items[0].appointment
    db.session.commit()
    login(student)

    page = client.get(f"{NEW}?seance={appointment.id}").get_data(as_text=True)

    assert _options(page, "appointment") == {"": False, str(appointment.id): True}
    assert _options(page, "order") == {"": False, str(mine.id): False}
    assert '<option selected value="reservation">' in page
    # The order's page links to the form with the order named.
    order_page = client.get(f"/tableau-de-bord/commandes/{mine.id}").get_data(as_text=True)
    [link] = re.findall(r'<a href="([^"]+)" id="report-order-problem">', order_page)
    assert link == f"{NEW}?commande={mine.id}"
    page = client.get(link).get_data(as_text=True)
    assert _options(page, "order") == {"": False, str(mine.id): True}
    assert '<option selected value="paiement">' in page
    # Someone else's session in the link is not named.
    other = client.get(f"{NEW}?seance={theirs.items[0].appointment.id}").get_data(as_text=True)
    assert _options(other, "appointment") == {"": False, str(appointment.id): False}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": "   "}, "Indiquez le sujet de votre demande."),
        ({"subject": "x" * 201}, "Le sujet ne peut dépasser 200 caractères."),
        ({"body": ""}, "Écrivez un message."),
        ({"body": "x" * 5001}, "Le message ne peut dépasser 5000 caractères."),
        ({"category": "plainte"}, "Choisissez une catégorie."),
        ({"appointment": "other"}, "Cette séance n'est pas l'une des vôtres."),
        ({"order": "other"}, "Cette commande n'est pas l'une des vôtres."),
        ({"appointment": "99999999"}, "Cette séance n'est pas l'une des vôtres."),
        ({"order": "1e3"}, "Cette commande n'est pas l'une des vôtres."),
        ({"order": "9" * 30}, "Cette commande n'est pas l'une des vôtres."),
        ({"subject": "Reçu\x00"}, "caractère nul"),
        ({"pieces_jointes": "html"}, "capture.pdf"),
    ],
)
def test_a_refused_ticket_says_why_in_french_and_writes_nothing(client, db, make, login, student, fields, message):
    other = make.booked_order(items=1)
    db.session.commit()
    login(student)
    ids = {"appointment": str(other.items[0].appointment.id), "order": str(other.id)}
    fields = {name: ids[name] if value == "other" else value for name, value in fields.items()}
    if fields.get("pieces_jointes") == "html":
        fields["pieces_jointes"] = [_file(b"<!doctype html><script>alert(1)</script>", "capture.pdf")]
    before = row_counts(db)

    response = client.post(NEW, data=_form(**fields))

    assert response.status_code == 400
    assert message in _text(response)
    assert row_counts(db) == before


def test_a_message_of_exactly_5000_characters_with_line_breaks_is_accepted(db, student, now):
    body = ("x" * 98 + "\r\n") * 50
    ticket = _open(student, now, body=body)
    assert len(ticket.messages[0].body) == 99 * 50 - 1


# --- the list and the conversation --------------------------------------------------------------


def test_the_list_shows_the_latest_activity_first_with_unread_replies_marked(client, db, login, student, staff, now):
    older = _open(student, now - timedelta(days=3), subject="Ancien billet")
    newer = _open(student, now - timedelta(days=2), subject="Billet récent")
    # The office's reply is the latest activity of the older ticket; an internal note is not activity.
    support.reply(older, staff, "Voici votre reçu.", False, now - timedelta(days=1))
    support.reply(newer, staff, "Note pour l'équipe", True, now)
    db.session.commit()
    login(student)

    page = _text(client.get(TICKETS))

    assert page.index("Ancien billet") < page.index("Billet récent")
    assert page.count("Nouvelle réponse") == 1
    assert "Paiement" in page and "En cours" in page and "Ouvert" in page
    assert support.unread_ticket_count(student.id) == 1


def test_a_student_without_tickets_is_invited_to_open_one(client, login, student, db):
    db.session.commit()
    login(student)
    page = _text(client.get(TICKETS))
    assert "Vous n'avez aucun billet." in page and NEW in page


def test_the_conversation_shows_public_replies_never_internal_notes_or_their_files(
    client, db, login, student, staff, now
):
    ticket = _open(student, now)
    note = support.reply(
        ticket,
        staff,
        "Note interne : client difficile",
        True,
        now,
        uploads=[Upload("dossier-interne.txt", "text/plain", b"secret")],
    )
    support.reply(ticket, staff, "Bonjour, voyez https://4as.ca/aide", False, now)
    db.session.commit()
    login(student)

    response = client.get(f"{TICKETS}/{ticket.id}")

    page = _text(response)
    assert response.status_code == 200
    assert "Où trouver mon reçu ?" in page and "Bonjour, voyez" in page
    assert '<a href="https://4as.ca/aide"' in response.get_data(as_text=True)
    assert "client difficile" not in page and "dossier-interne.txt" not in page
    assert f"/pieces-jointes/{note.attachments[0].id}" not in page
    # Who wrote: the student is « Vous », the office is the team, never a staff member's name.
    assert "Vous" in page and "Équipe 4AS" in page and "Gagnon" not in page
    assert len(queued(db, OutboxEventType.TICKET_REPLIED)) == 1


def test_opening_the_conversation_marks_the_replies_read(client, db, login, student, staff, now):
    ticket = _open(student, now)
    support.reply(ticket, staff, "Première réponse", False, now)
    db.session.commit()
    login(student)
    assert support.unread_ticket_count(student.id) == 1

    client.get(f"{TICKETS}/{ticket.id}")
    assert support.unread_ticket_count(student.id) == 0

    # An internal note is no news; a new reply is.
    support.reply(ticket, staff, "Note", True, now)
    db.session.commit()
    assert support.unread_ticket_count(student.id) == 0
    support.reply(ticket, staff, "Deuxième réponse", False, now)
    db.session.commit()
    assert support.unread_ticket_count(student.id) == 1


# --- replying and closing -----------------------------------------------------------------------


def test_a_student_reply_makes_the_ticket_unanswered_and_tells_the_office(app, client, db, login, student, staff, now):
    ticket = _open(student, now)
    ticket.assignee_id = staff.id
    support.reply(ticket, staff, "Pouvez-vous préciser ?", False, now)
    db.session.commit()
    assert support.unanswered_count() == 0
    login(student)

    response = client.post(
        f"{TICKETS}/{ticket.id}", data={"body": "Commande 12.", "pieces_jointes": [_file(b"notes\n", "notes.txt")]}
    )

    assert response.status_code == 302
    assert support.unanswered_count() == 1
    student_side, office = queued(db, OutboxEventType.TICKET_REPLIED)
    base = app.config["PUBLIC_BASE_URL"]
    assert office.dedupe_key == f"ticket.replied:message:{ticket.messages[-1].id}"
    assert office.ordering_key == f"ticket:{ticket.id}"
    assert office.payload["recipient"] == "office"
    assert office.payload["ticket_url"] == f"{base}/admin/billets/repondre/{ticket.id}"
    assert office.payload["message"]["author"] == {"role": "student", "name": student.full_name}
    assert office.payload["attachments"] == ["notes.txt"]
    assert office.payload["assignee"]["email"] == staff.email
    assert student_side.payload["recipient"] == "student"
    assert student_side.payload["ticket_url"] == f"{base}{TICKETS}/{ticket.id}"


@pytest.mark.parametrize(
    ("status", "after"),
    [("ouvert", "ouvert"), ("en_cours", "en_cours"), ("resolu", "ouvert")],
)
def test_a_student_reply_reopens_a_resolved_ticket(db, student, now, status, after):
    ticket = _open(student, now)
    ticket.status = status
    support.student_reply(ticket, student, "Toujours pas réglé.", now)
    assert ticket.status == after


def test_a_closed_ticket_refuses_replies_and_writes_nothing(client, db, login, student, now):
    ticket = _open(student, now)
    ticket.status = TicketStatus.CLOSED.value
    db.session.commit()
    login(student)
    before = row_counts(db)

    response = client.post(f"{TICKETS}/{ticket.id}", data={"body": "Encore une question"})

    assert response.status_code == 409
    assert "Ce billet est fermé" in _text(response) and 'id="reply-form"' not in _text(response)
    assert row_counts(db) == before


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("", "Écrivez un message."),
        ("   ", "Écrivez un message."),
        ("x" * 5001, "Le message ne peut dépasser 5000 caractères."),
        ("Bonjour\x00", "caractère nul"),
    ],
)
def test_an_empty_or_too_long_reply_is_refused(client, db, login, student, now, body, message):
    ticket = _open(student, now)
    db.session.commit()
    login(student)
    before = row_counts(db)

    response = client.post(f"{TICKETS}/{ticket.id}", data={"body": body})

    assert response.status_code == 400 and message in _text(response)
    assert row_counts(db) == before


def test_the_student_closes_their_ticket(client, db, login, student, now):
    ticket = _open(student, now)
    db.session.commit()
    login(student)
    assert "Fermer le billet" in _text(client.get(f"{TICKETS}/{ticket.id}"))

    response = client.post(f"{TICKETS}/{ticket.id}/fermer")

    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).status == "ferme"
    page = _text(client.get(f"{TICKETS}/{ticket.id}"))
    assert "Ce billet est fermé" in page and "Fermer le billet" not in page
    assert support.unanswered_count() == 0


# --- who may see what ---------------------------------------------------------------------------


def _urls(ticket_id):
    return [
        ("get", TICKETS),
        ("get", NEW),
        ("post", NEW),
        ("get", f"{TICKETS}/{ticket_id}"),
        ("post", f"{TICKETS}/{ticket_id}"),
        ("post", f"{TICKETS}/{ticket_id}/fermer"),
    ]


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db, student, now):
    ticket = _open(student, now)
    db.session.commit()
    before = row_counts(db)
    for method, url in _urls(ticket.id):
        response = getattr(client, method)(url, data=_form() if method == "post" else None)
        assert response.status_code == 302 and "/connexion" in response.location, url
    assert row_counts(db) == before


@pytest.mark.parametrize("role", ["admin", "staff", "accountant", "tutor"])
def test_office_roles_and_tutors_have_no_student_ticket_pages(client, db, login_as, student, now, role):
    ticket = _open(student, now)
    db.session.commit()
    login_as(role)
    before = row_counts(db)
    for method, url in _urls(ticket.id):
        response = getattr(client, method)(url, data=_form() if method == "post" else None)
        assert response.status_code == 403, url
    assert row_counts(db) == before


def test_another_students_ticket_is_not_found(client, db, make, login, student, now):
    ticket = _open(student, now)
    db.session.commit()
    login(make.user())
    before = row_counts(db)
    for method, url in _urls(ticket.id)[3:]:
        response = getattr(client, method)(url, data={"body": "Je me glisse ici"} if method == "post" else None)
        assert response.status_code == 404, url
    assert row_counts(db) == before
    assert db.session.get(Ticket, ticket.id).status == "ouvert"
    assert "Reçu introuvable" not in _text(client.get(TICKETS))


@pytest.mark.app_config(RATELIMIT_ENABLED=True, MESSAGE_RATE_LIMIT="2 per minute")
def test_new_tickets_and_replies_share_the_message_rate_limit(client, db, login, student, now):
    ticket = _open(student, now)
    db.session.commit()
    login(student)

    assert client.post(NEW, data=_form()).status_code == 302
    assert client.post(f"{TICKETS}/{ticket.id}", data={"body": "Une précision"}).status_code == 302
    assert client.post(f"{TICKETS}/{ticket.id}", data={"body": "Encore une"}).status_code == 429
    assert client.get(f"{TICKETS}/{ticket.id}").status_code == 200
    assert count(db, TicketMessage) == 3


# --- the office's side ----------------------------------------------------------------------------


def test_the_office_sees_the_students_new_messages_and_files_and_replies_with_a_file(
    client, db, login_as, student, now
):
    staff = login_as("staff")
    ticket = _open(student, now)
    support.reply(ticket, staff, "Quelle commande ?", False, now)
    follow_up = support.student_reply(
        ticket, student, "La commande 12.", now, uploads=[Upload("recu.txt", "text/plain", b"Commande 12\n")]
    )
    db.session.commit()
    url = f"/admin/billets/repondre/{ticket.id}"

    page = client.get(url).get_data(as_text=True)

    assert page.count("new-message") == 1 and f'data-message="{follow_up.id}"' in page
    assert f"/pieces-jointes/{follow_up.attachments[0].id}" in page and "recu.txt" in page
    assert 'id="unanswered"' in page

    response = client.post(url, data={"body": "Remboursée.", "pieces_jointes": [_file(PDF, "preuve.pdf")]})

    assert response.status_code == 302
    reply = db.session.scalar(select(TicketMessage).order_by(TicketMessage.id.desc()))
    assert [a.filename for a in reply.attachments] == ["preuve.pdf"]
    assert count(db, Attachment) == 2
    page = client.get(url).get_data(as_text=True)
    assert "new-message" not in page and 'id="unanswered"' not in page


def test_an_office_reply_with_a_refused_file_writes_nothing(client, db, login_as, student, now):
    login_as("staff")
    ticket = _open(student, now)
    db.session.commit()
    before = row_counts(db)

    response = client.post(
        f"/admin/billets/repondre/{ticket.id}",
        data={"body": "Voici", "pieces_jointes": [_file(b"MZ\x90\x00binary", "outil.pdf")]},
    )

    assert response.status_code == 400
    assert row_counts(db) == before
    assert count(db, OutboxEvent, OutboxEvent.event_type == "ticket.replied") == 0
