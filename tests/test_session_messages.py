"""A session's conversation: who reads and writes it, what is unread, hiding, rendering, events and limits."""

import html
import io
import re
from datetime import timedelta
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from tutoradmin import attachments, messaging
from tutoradmin.linkify import linkify
from tutoradmin.models import (
    Attachment,
    AuditLog,
    ConversationRead,
    OutboxEvent,
    Role,
    SessionMessage,
)

from .query_counts import count_queries
from .test_event_payloads import check

# The smallest file the attachment rules accept as a PDF.
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _text(response):
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


def _count(db, model):
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


@pytest.fixture
def convo(db, make):
    """A session (its student, its tutor's account), another student and another tutor, and the office."""
    appointment = make.appointment()
    other = make.appointment()
    people = SimpleNamespace(
        appointment=appointment,
        student=appointment.student,
        tutor=appointment.tutor.user,
        other_student=other.student,
        other_tutor=other.tutor.user,
        staff=make.user(role=Role.STAFF),
        admin=make.user(role=Role.ADMIN),
        accountant=make.user(role=Role.ACCOUNTANT),
    )
    db.session.commit()
    return people


def _say(db, convo, author, body, now, **fields):
    message = messaging.send(convo.appointment, getattr(convo, author), body, now)
    for name, value in fields.items():
        setattr(message, name, value)
    db.session.commit()
    return message


def _urls(appointment_id):
    return {
        "student": f"/tableau-de-bord/seances/{appointment_id}/messages",
        "tutor": f"/admin/mes-rendez-vous/messages/{appointment_id}",
        "office": f"/admin/rendez-vous/messages/{appointment_id}",
    }


# --- who reads and writes -------------------------------------------------------------------------

EVERYONE = ["student", "tutor", "other_student", "other_tutor", "staff", "admin", "accountant"]
READERS = {"student", "tutor", "staff", "admin"}
WRITERS = {"student", "tutor"}


@pytest.mark.parametrize("who", EVERYONE)
def test_participants_read_and_write_the_office_only_reads(convo, now, who):
    user = getattr(convo, who)
    assert messaging.can_read(user, convo.appointment) == (who in READERS)
    assert messaging.can_write(user, convo.appointment, now) == (who in WRITERS)


#: (GET, POST) statuses of the student's, the tutor's and the office's conversation pages for each role
#: (the office's page is read-only: no POST, whoever asks).
EXPECTED = {
    "student": {"student": (200, 302), "tutor": (403, 403), "office": (403, 405)},
    "tutor": {"student": (403, 403), "tutor": (200, 302), "office": (403, 405)},
    "other_student": {"student": (404, 404), "tutor": (403, 403), "office": (403, 405)},
    "other_tutor": {"student": (403, 403), "tutor": (404, 404), "office": (403, 405)},
    "staff": {"student": (403, 403), "tutor": (403, 403), "office": (200, 405)},
    "admin": {"student": (403, 403), "tutor": (403, 403), "office": (200, 405)},
    "accountant": {"student": (403, 403), "tutor": (403, 403), "office": (403, 405)},
    "anonymous": {"student": (302, 302), "tutor": (302, 302), "office": (302, 405)},
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_each_role_reaches_exactly_its_own_side_of_the_conversation(client, db, convo, login, who, now):
    _say(db, convo, "student", "Bonjour, une question sur la séance.", now)
    if who != "anonymous":
        login(getattr(convo, who))

    outcomes = {}
    for side, url in _urls(convo.appointment.id).items():
        page, posted = client.get(url), client.post(url, data={"body": f"Écrit par {who}"})
        outcomes[side] = (page.status_code, posted.status_code)
        if page.status_code == 200:
            assert "Bonjour, une question sur la séance." in _text(page)
        if who == "anonymous":
            assert urlsplit(page.headers["Location"]).path == "/connexion"

    assert outcomes == EXPECTED[who]
    written = db.session.scalars(select(SessionMessage.body).order_by(SessionMessage.id)).all()
    expected_written = ["Bonjour, une question sur la séance."] + ([f"Écrit par {who}"] if who in WRITERS else [])
    assert written == expected_written
    # The office's reading is never recorded; a participant's is.
    readers = set(db.session.scalars(select(ConversationRead.user_id)))
    assert readers == {convo.student.id} | ({convo.tutor.id} if who == "tutor" else set())


def test_the_hide_button_is_for_the_office_only(client, db, convo, login, now):
    message = _say(db, convo, "student", "Texte", now)
    url = f"/admin/rendez-vous/messages/masquer/{message.id}"
    for who in ("student", "tutor", "accountant"):
        login(getattr(convo, who))
        assert client.post(url, data={"reason": "Abus"}).status_code == 403
    login(convo.staff)
    assert (
        client.post(f"/admin/rendez-vous/messages/masquer/{message.id + 1000}", data={"reason": "x"}).status_code == 404
    )
    assert _count(db, AuditLog) == 0 and db.session.get(SessionMessage, message.id).hidden_at is None


@pytest.mark.bare_rows  # the session changes tutor without moving its time cells
def test_the_conversation_follows_the_session_to_its_new_tutor(db, make, convo, now):
    _say(db, convo, "student", "Bonjour", now)
    new_tutor = make.tutor(courses=[convo.appointment.course])
    convo.appointment.tutor = new_tutor
    db.session.commit()

    assert messaging.can_write(new_tutor.user, convo.appointment, now)
    assert not messaging.can_read(convo.tutor, convo.appointment)
    assert messaging.unread_total(new_tutor.user) == 1 and messaging.unread_total(convo.tutor) == 0


def test_a_past_session_stays_readable_and_writable_for_thirty_days(client, db, make, login, now):
    hour = now.replace(minute=0, second=0, microsecond=0)
    ended = make.appointment(starts_at=hour - timedelta(days=31))
    recent = make.appointment(student=ended.student, starts_at=hour - timedelta(days=29))
    db.session.commit()
    login(ended.student)

    assert client.post(_urls(recent.id)["student"], data={"body": "Merci !"}).status_code == 302
    refused = client.post(_urls(ended.id)["student"], data={"body": "Encore une question"})
    assert refused.status_code == 400 and "30 jours après la séance" in _text(refused)
    closed = client.get(_urls(ended.id)["student"])
    assert closed.status_code == 200 and "close depuis le" in _text(closed) and "textarea" not in _text(closed)
    assert db.session.scalars(select(SessionMessage.appointment_id)).all() == [recent.id]


# --- what a message may be ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "body, written",
    [
        ("é" * 5000, True),
        ("  " + "a" * 5000 + "\r\n", True),  # blanks around the text do not count
        ("a" * 5001, False),
        ("   \r\n  ", False),
        ("", False),
    ],
)
def test_a_message_has_text_of_at_most_five_thousand_characters(client, db, convo, login, body, written):
    login(convo.student)

    response = client.post(_urls(convo.appointment.id)["student"], data={"body": body})

    assert response.status_code == (302 if written else 400)
    assert _count(db, SessionMessage) == int(written)
    assert _count(db, OutboxEvent) == int(written)
    if not written:
        assert ("5 000 au plus" if body.strip() else "Écrivez un message ou joignez un fichier") in _text(response)


def test_line_breaks_are_kept_as_one_character(db, convo, now):
    message = _say(db, convo, "student", "un\r\ndeux\rtrois", now)
    assert message.body == "un\ndeux\ntrois"


@pytest.mark.parametrize(
    "text, expected",
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("javascript:alert(1)", "javascript:alert(1)"),
        (
            "Voir https://exemple.ca/a?b=1&c=2.",
            'Voir <a href="https://exemple.ca/a?b=1&amp;c=2" rel="noopener noreferrer nofollow" target="_blank">'
            "https://exemple.ca/a?b=1&amp;c=2</a>.",
        ),
        (
            'https://exemple.ca/x"onmouseover="alert(1)',
            '<a href="https://exemple.ca/x" rel="noopener noreferrer nofollow" target="_blank">https://exemple.ca/x</a>'
            "&#34;onmouseover=&#34;alert(1)",
        ),
        (
            "https://exemple.ca/l'été",
            '<a href="https://exemple.ca/l&#39;été" rel="noopener noreferrer nofollow" target="_blank">'
            "https://exemple.ca/l&#39;été</a>",
        ),
        (
            "(https://fr.wikipedia.org/wiki/Tutorat_(enseignement))",
            '(<a href="https://fr.wikipedia.org/wiki/Tutorat_(enseignement)" rel="noopener noreferrer nofollow"'
            ' target="_blank">https://fr.wikipedia.org/wiki/Tutorat_(enseignement)</a>)',
        ),
        ("ligne 1\nligne 2 <b>", "ligne 1<br>\nligne 2 &lt;b&gt;"),
        ("ftp://exemple.ca http:// data:text/html,x", "ftp://exemple.ca http:// data:text/html,x"),
    ],
)
def test_text_is_escaped_and_only_web_links_become_links(text, expected):
    assert str(linkify(text)) == expected


def test_pages_show_a_message_escaped_with_its_links(client, db, convo, login, now):
    _say(db, convo, "tutor", '<img src=x onerror="alert(1)">\nhttps://exemple.ca/notes', now)
    login(convo.student)

    page = client.get(_urls(convo.appointment.id)["student"]).get_data(as_text=True)

    assert "<img src=x" not in page and "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;<br>" in page
    assert '<a href="https://exemple.ca/notes" rel="noopener noreferrer nofollow"' in page


# --- unread counts ------------------------------------------------------------------------------


def test_unread_messages_count_per_side_and_the_office_reading_marks_nothing(client, db, convo, login, now):
    _say(db, convo, "student", "Première question", now)
    _say(db, convo, "student", "Deuxième question", now)
    appointment_id = convo.appointment.id
    assert messaging.unread_counts(convo.tutor, [appointment_id]) == {appointment_id: 2}
    assert messaging.unread_total(convo.tutor) == 2
    assert messaging.unread_total(convo.student) == 0
    assert messaging.unread_total(convo.other_tutor) == messaging.unread_total(convo.staff) == 0

    login(convo.staff)
    assert client.get(_urls(appointment_id)["office"]).status_code == 200
    assert messaging.unread_total(convo.tutor) == 2

    login(convo.tutor)
    listing = _text(client.get("/admin/mes-rendez-vous/"))
    assert "2 non lus" in listing
    assert "2 non lus" in _text(client.get("/admin/"))
    client.get(_urls(appointment_id)["tutor"])
    assert messaging.unread_total(convo.tutor) == 0
    assert client.post(_urls(appointment_id)["tutor"], data={"body": "Réponse"}).status_code == 302
    assert "non lu" not in _text(client.get("/admin/mes-rendez-vous/"))

    assert messaging.unread_counts(convo.student, [appointment_id]) == {appointment_id: 1}
    login(convo.student)
    assert "1 nouveau message" in _text(client.get("/tableau-de-bord"))
    assert "1 nouveau message" in _text(client.get(f"/tableau-de-bord/seances/{appointment_id}"))
    client.get(_urls(appointment_id)["student"])
    assert messaging.unread_total(convo.student) == 0
    assert "nouveau message" not in _text(client.get("/tableau-de-bord"))
    assert db.session.scalar(select(func.count()).select_from(ConversationRead)) == 2


def test_reading_never_moves_the_mark_back(db, convo, now):
    first = _say(db, convo, "student", "Un", now)
    _say(db, convo, "student", "Deux", now)
    messaging.mark_read(convo.appointment, convo.tutor, now)
    messaging.mark_read(convo.appointment, convo.tutor, now, first.id)
    messaging.mark_read(convo.appointment, convo.staff, now)
    db.session.commit()

    assert messaging.unread_total(convo.tutor) == 0
    # The author's own messages count as read; the office's reading is not recorded.
    assert set(db.session.scalars(select(ConversationRead.user_id))) == {convo.student.id, convo.tutor.id}


def test_the_dashboard_and_both_sides_of_a_conversation_take_the_same_queries_whatever_their_size(
    client, db, make, login, now
):
    student = make.user()
    hour = now.replace(minute=0, second=0, microsecond=0)
    notes = [attachments.check_upload("notes.txt", b"Mes notes du chapitre 3\n")]
    counts = []
    for sessions, messages in ((1, 2), (4, 7)):
        for day in range(sessions):
            starts_at = hour + timedelta(days=10 + day, hours=len(counts))
            appointment = make.appointment(student=student, starts_at=starts_at)
            for n in range(messages):
                author = appointment.tutor.user if n % 2 == 0 else student
                messaging.send(appointment, author, f"Message {n}", now, uploads=notes)
        db.session.commit()
        login(student)
        db.session.expire_all()
        with count_queries(db) as dashboard:
            assert client.get("/tableau-de-bord").status_code == 200
        with count_queries(db) as conversation:
            page = client.get(_urls(appointment.id)["student"])
        assert page.get_data(as_text=True).count("/pieces-jointes/") == messages
        login(appointment.tutor.user)
        db.session.expire_all()
        with count_queries(db) as tutor_side:
            assert client.get(_urls(appointment.id)["tutor"]).status_code == 200
        counts.append((len(dashboard), len(conversation), len(tutor_side)))
    assert counts[0] == counts[1]


# --- hiding -------------------------------------------------------------------------------------


def test_the_office_hides_a_message_with_a_reason_and_the_participants_see_a_placeholder(client, db, convo, login, now):
    message = _say(db, convo, "tutor", "Propos déplacés", now)
    _say(db, convo, "student", "Question suivante", now)
    login(convo.staff)
    hide_url = f"/admin/rendez-vous/messages/masquer/{message.id}"

    refused = client.post(hide_url, data={"reason": "  "})
    assert refused.status_code == 400 and "Indiquez pourquoi ce message est masqué" in _text(refused)
    assert _count(db, AuditLog) == 0 and db.session.get(SessionMessage, message.id).hidden_at is None

    assert client.post(hide_url, data={"reason": "Propos injurieux"}).status_code == 302
    entry = db.session.scalar(select(AuditLog))
    assert (entry.actor_id, entry.action, entry.target_type, entry.target_id) == (
        convo.staff.id,
        "session_message.hidden",
        "session_messages",
        message.id,
    )
    assert entry.after["reason"] == "Propos injurieux"
    office = _text(client.get(_urls(convo.appointment.id)["office"]))
    assert "Propos déplacés" in office and "motif : Propos injurieux" in office
    assert client.post(hide_url, data={"reason": "Encore"}).status_code == 400  # already hidden
    assert _count(db, AuditLog) == 1

    login(convo.student)
    student_page = _text(client.get(_urls(convo.appointment.id)["student"]))
    assert "« Message masqué par l'équipe »" in student_page and "Propos déplacés" not in student_page
    # A hidden message no longer counts as unread.
    assert messaging.unread_total(convo.tutor) == 1 and messaging.unread_total(convo.student) == 0


def test_hiding_takes_the_office_and_a_reason(db, convo, now):
    message = _say(db, convo, "student", "Texte", now)
    with pytest.raises(messaging.MessagingError):
        messaging.hide(message, convo.tutor, "Abus", now)
    with pytest.raises(messaging.MessagingError):
        messaging.hide(message, convo.admin, "", now)
    messaging.hide(message, convo.admin, "Abus", now)
    db.session.commit()
    assert message.hidden_reason == "Abus" and message.hidden_by_id == convo.admin.id


# --- files --------------------------------------------------------------------------------------


def test_a_student_sends_a_file_the_tutor_downloads_it_until_it_is_hidden(client, db, convo, login, now):
    login(convo.student)
    response = client.post(
        _urls(convo.appointment.id)["student"],
        data={"body": "", "pieces_jointes": [(io.BytesIO(PDF), "exercices.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, _text(response)
    attachment = db.session.scalar(select(Attachment))
    assert attachment.filename == "exercices.pdf" and attachment.session_message.body == ""
    event = db.session.scalar(select(OutboxEvent))
    assert event.payload["attachments"] == ["exercices.pdf"] and event.payload["text"] == ""

    login(convo.tutor)
    page = client.get(_urls(convo.appointment.id)["tutor"]).get_data(as_text=True)
    assert f"/pieces-jointes/{attachment.id}" in page
    assert client.get(f"/pieces-jointes/{attachment.id}").status_code == 200

    messaging.hide(attachment.session_message, convo.staff, "Fichier inapproprié", now)
    db.session.commit()
    assert f"/pieces-jointes/{attachment.id}" not in client.get(_urls(convo.appointment.id)["tutor"]).get_data(
        as_text=True
    )
    assert client.get(f"/pieces-jointes/{attachment.id}").status_code == 404
    login(convo.staff)
    assert client.get(f"/pieces-jointes/{attachment.id}").status_code == 200


def test_a_refused_file_writes_nothing(client, db, convo, login):
    login(convo.tutor)
    response = client.post(
        _urls(convo.appointment.id)["tutor"],
        data={"body": "Voici", "pieces_jointes": [(io.BytesIO(b"<html>x</html>"), "notes.pdf")]},
        content_type="multipart/form-data",
    )
    assert response.status_code == 400
    assert [_count(db, m) for m in (SessionMessage, Attachment, OutboxEvent)] == [0, 0, 0]


# --- events and limits --------------------------------------------------------------------------


def test_each_message_is_announced_once_to_the_other_side(db, convo, now, app):
    base = app.config["PUBLIC_BASE_URL"]
    asked = _say(db, convo, "student", "Avez-vous reçu mes exercices ?", now)
    answered = _say(db, convo, "tutor", "Oui, à demain.\nhttps://exemple.ca", now)

    events = db.session.scalars(select(OutboxEvent).order_by(OutboxEvent.id)).all()
    assert [e.event_type for e in events] == ["message.sent", "message.sent"]
    for event in events:
        check("message.sent", event.payload)
    to_tutor, to_student = (e.payload for e in events)
    assert (to_tutor["message_id"], to_tutor["recipient"]["id"], to_tutor["sender"]["id"]) == (
        asked.id,
        convo.tutor.id,
        convo.student.id,
    )
    assert to_tutor["url"] == f"{base}/admin/mes-rendez-vous/messages/{convo.appointment.id}"
    assert (to_student["recipient"]["id"], to_student["text"]) == (convo.student.id, answered.body)
    assert to_student["url"] == f"{base}/tableau-de-bord/seances/{convo.appointment.id}/messages"
    assert {e.ordering_key for e in events} == {f"appointment:{convo.appointment.id}"}
    assert {e.dedupe_key for e in events} == {f"message.sent:message:{asked.id}", f"message.sent:message:{answered.id}"}


@pytest.mark.app_config(RATELIMIT_ENABLED=True, MESSAGE_RATE_LIMIT="2 per minute")
@pytest.mark.parametrize("side", ["student", "tutor"])
def test_messages_are_rate_limited_per_account(client, db, convo, login, side):
    login(getattr(convo, side))
    url = _urls(convo.appointment.id)[side]

    statuses = [client.post(url, data={"body": f"Message {n}"}).status_code for n in range(3)]

    assert statuses == [302, 302, 429]
    assert _count(db, SessionMessage) == 2
    # Reading is not limited.
    assert client.get(url).status_code == 200
