"""Every outbound event, triggered through the domain, matches its documented schema (docs/webhooks.md)."""

import json
import re
import uuid
from datetime import time, timedelta
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import select

from tutoradmin import appointments, availability, catalog, events, messaging, refunds, reminders, support
from tutoradmin.accounts import register_student
from tutoradmin.checkout import start_checkout
from tutoradmin.formatting import long_date
from tutoradmin.fulfilment import payment_succeeded
from tutoradmin.localtime import local_instant, local_today, next_month, previous_month, to_local
from tutoradmin.models import (
    AuditLog,
    OutboxEvent,
    OutboxEventType,
    TicketMessage,
    WeeklyRule,
)
from tutoradmin.models.integrations import EVENT_FAMILIES
from tutoradmin.payouts import mark_paid

from .shopping import billing, fill, new_cart

DOCS = Path(__file__).resolve().parent.parent / "docs"
SCHEMAS = DOCS / "webhook-schemas"
NBSP = "\xa0"


def schema_of(event_type):
    return json.loads((SCHEMAS / f"{event_type}.json").read_text(encoding="utf-8"))


def check(event_type, data):
    """Validate `data` against the event type's schema; returns it for further assertions."""
    Draft202012Validator(schema_of(event_type), format_checker=Draft202012Validator.FORMAT_CHECKER).validate(data)
    return data


def queued(db, event_type):
    """The queued events of a type, each checked against its schema."""
    rows = db.session.scalars(
        select(OutboxEvent).where(OutboxEvent.event_type == str(event_type)).order_by(OutboxEvent.id)
    ).all()
    for row in rows:
        check(row.event_type, row.payload)
    return rows


@pytest.fixture
def base(app):
    return app.config["PUBLIC_BASE_URL"]


@pytest.fixture
def staff(make):
    return make.user(role="staff", first_name="Sophie", last_name="Gagnon")


def local_text(moment):
    return long_date(to_local(moment).date())


def assert_session(block, appointment, base):
    assert block["appointment_id"] == appointment.id
    assert block["course"] == {"id": appointment.course.id, "title": appointment.course.title}
    assert block["tutor"]["name"] == appointment.tutor.display_name
    assert block["starts_at"] == to_local(appointment.starts_at).isoformat()
    assert block["date_text"] == local_text(appointment.starts_at)
    assert block["time_text"] == to_local(appointment.starts_at).strftime(f"%H{NBSP}h{NBSP}%M")
    assert block["url"] == f"{base}/tableau-de-bord/seances/{appointment.id}"


# --- accounts ----------------------------------------------------------------------------------


def test_a_sign_up_announces_the_student_with_a_link_to_their_dashboard(db, now, base):
    user = register_student("lea@example.com", "un-mot-de-passe-solide", "Léa", "Roy", now)
    db.session.commit()

    [event] = queued(db, OutboxEventType.SIGNUP)
    assert event.dedupe_key == f"signup:user:{user.id}" and event.ordering_key is None
    assert event.payload["student"] == {
        "id": user.id,
        "first_name": "Léa",
        "last_name": "Roy",
        "email": "lea@example.com",
        "phone": None,
    }
    assert event.payload["dashboard_url"] == f"{base}/tableau-de-bord"


def test_a_password_reset_payload_carries_the_link_and_its_expiry_in_french(make, now, base):
    user = make.user(first_name="Léa")
    expires = now + timedelta(hours=1)

    data = check(
        "password.reset_requested",
        events.password_reset_requested(user, f"{base}/mot-de-passe/jeton", expires),
    )

    assert data["user"]["email"] == user.email and data["reset_url"].startswith(base)
    assert data["expires_at"] == to_local(expires).isoformat()
    assert " à " in data["expires_at_text"]


# --- bookings ----------------------------------------------------------------------------------


def test_a_paid_order_announces_its_sessions_with_local_times_and_links(db, make, offer, gateway, now, base):
    student = make.user(first_name="Camille", last_name="Tremblay", phone="514 555-0101")
    cart = new_cart(db, student)
    fill(cart, offer, 9, 14, now=now, tutor=offer.tutors[0])
    order, payment = start_checkout(cart, billing(student.email), now, gateway, user=student)
    db.session.commit()
    payment_succeeded(payment.gateway_payment_id, now, gateway)
    db.session.commit()

    [event] = queued(db, OutboxEventType.BOOKING_CREATED)
    data = event.payload
    assert event.ordering_key == f"student:{student.id}"
    assert data["order_id"] == order.id and data["student"]["phone"] == "514 555-0101"
    assert [s["time_text"] for s in data["sessions"]] == [f"09{NBSP}h{NBSP}00", f"14{NBSP}h{NBSP}00"]
    assert {s["date_text"] for s in data["sessions"]} == {long_date(offer.day)}
    assert {s["tutor"]["name"] for s in data["sessions"]} == {offer.tutors[0].display_name}
    assert all(s["url"].startswith(f"{base}/tableau-de-bord/seances/") for s in data["sessions"])
    assert data["card_total"] == {"cents": 9000, "formatted": f"90,00{NBSP}$"}
    assert data["unbooked"] == []
    for block, item in zip(data["sessions"], order.items, strict=True):
        assert_session(block, item.appointment, base)


def test_a_student_cancellation_names_who_cancelled_and_the_credit_given(db, make, now, base):
    order = make.booked_order(items=1)
    appointment = order.items[0].appointment
    student = order.user

    credit = appointments.cancel(appointment, "Empêchement", student, now)
    db.session.commit()

    [event] = queued(db, OutboxEventType.BOOKING_CANCELLED)
    data = event.payload
    assert event.dedupe_key == f"booking.cancelled:appointment:{appointment.id}"
    assert event.ordering_key == f"student:{student.id}"
    assert data["cancelled_by"] == {"role": "student", "name": student.full_name}
    assert data["reason"] == "Empêchement"
    assert data["credit"] == {"cents": credit, "formatted": f"45,00{NBSP}$"} and credit == 4500
    assert data["refund"]["cents"] == 0
    assert data["student"]["id"] == student.id and data["tutor"]["id"] == appointment.tutor_id
    assert_session(data["session"], appointment, base)


def test_a_tutor_cancellation_is_announced_as_the_tutors(db, make, now):
    order = make.booked_order(items=1)
    appointment = order.items[0].appointment

    appointments.tutor_cancel(appointment, "Malade", appointment.tutor.user, now)
    db.session.commit()

    [event] = queued(db, OutboxEventType.BOOKING_CANCELLED)
    assert event.payload["cancelled_by"]["role"] == "tutor"


def test_a_refund_that_cancels_a_session_announces_the_refund_not_a_credit(db, make, staff, gateway, now, base):
    order = make.booked_order(items=2)
    first = order.items[0]

    refund = refunds.refund_order(order, 4500, [first.id], "Tuteur absent", staff, now, gateway, uuid.uuid4().hex)
    db.session.commit()

    [cancelled] = queued(db, OutboxEventType.BOOKING_CANCELLED)
    assert cancelled.payload["cancelled_by"] == {"role": "staff", "name": "Sophie Gagnon"}
    assert cancelled.payload["refund"] == {"cents": 4500, "formatted": f"45,00{NBSP}$"}
    assert cancelled.payload["credit"]["cents"] == 0
    [processed] = queued(db, OutboxEventType.REFUND_PROCESSED)
    data = processed.payload
    assert processed.dedupe_key == f"refund.processed:refund:{refund.id}" and processed.ordering_key is None
    assert data["refund_id"] == refund.id and data["order_id"] == order.id and data["status"] == "succeeded"
    assert data["amount"]["formatted"] == f"45,00{NBSP}$" and data["reason"] == "Tuteur absent"
    assert [s["appointment_id"] for s in data["cancelled_sessions"]] == [first.appointment.id]
    assert data["dashboard_url"] == f"{base}/tableau-de-bord"


def test_a_reminder_payload_is_the_session_with_both_people(db, make, now, base):
    soon = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=5)
    appointment = make.appointment(starts_at=soon)
    db.session.commit()

    assert reminders.send_reminders(now) == 1
    db.session.commit()

    [event] = queued(db, OutboxEventType.BOOKING_REMINDER)
    assert event.ordering_key == f"student:{appointment.student_id}"
    assert event.payload["student"]["id"] == appointment.student_id
    assert_session(event.payload["session"], appointment, base)


def test_a_rescheduled_session_payload_gives_the_old_and_new_times(make, staff, base):
    appointment = make.appointment()
    previous = appointment.starts_at - timedelta(days=1)

    data = check("booking.rescheduled", events.booking_rescheduled(appointment, previous, staff))

    assert data["previous"]["date_text"] == local_text(previous)
    assert data["previous"]["starts_at_utc"].endswith("Z")
    assert data["rescheduled_by"]["role"] == "staff"
    assert_session(data["session"], appointment, base)


def test_an_attendance_payload_gives_the_mark_in_french(make, base):
    appointment = make.appointment()

    data = check("booking.attendance", events.booking_attendance(appointment, "late_cancellation", "Prévenu 1 h avant"))

    assert (data["mark"], data["mark_text"], data["note"]) == (
        "late_cancellation",
        "Annulation tardive",
        "Prévenu 1 h avant",
    )
    assert_session(data["session"], appointment, base)


def test_a_session_with_a_meeting_link_sends_it(db, make, now):
    appointment = make.appointment()
    appointments.set_meeting_link(appointment, "https://zoom.us/j/123456", appointment.tutor.user, now)
    db.session.flush()

    data = check("booking.reminder", events.booking_reminder(appointment))

    assert data["session"]["meeting_url"] == "https://zoom.us/j/123456"


# --- support and messages ----------------------------------------------------------------------


def test_a_new_ticket_and_the_offices_reply_are_announced_in_order(db, make, staff, now):
    student = make.user(first_name="Léa")
    ticket = support.open_ticket(student, "paiement", "Reçu", "Où trouver mon reçu ?", now)
    support.reply(ticket, staff, "Note pour l'équipe", True, now)
    support.reply(ticket, staff, "Dans votre tableau de bord.", False, now)
    db.session.commit()

    [created] = queued(db, OutboxEventType.TICKET_CREATED)
    [replied] = queued(db, OutboxEventType.TICKET_REPLIED)
    assert created.ordering_key == replied.ordering_key == f"ticket:{ticket.id}"
    assert created.payload["ticket"]["subject"] == "Reçu" and created.payload["ticket"]["category"] == "paiement"
    assert created.payload["message"]["body"] == "Où trouver mon reçu ?"
    assert created.payload["message"]["author"] == {"role": "student", "name": student.full_name}
    assert replied.payload["message"]["body"] == "Dans votre tableau de bord."
    assert replied.payload["message"]["author"] == {"role": "staff", "name": "Sophie Gagnon"}


def test_a_ticket_needs_a_subject_and_a_message_and_the_students_own_session(db, make, now):
    student = make.user()
    someone_elses = make.appointment()
    with pytest.raises(support.SupportError):
        support.open_ticket(student, "autre", "  ", "Bonjour", now)
    with pytest.raises(support.SupportError):
        support.open_ticket(student, "autre", "Sujet", "", now)
    with pytest.raises(support.SupportError):
        support.open_ticket(student, "inconnue", "Sujet", "Bonjour", now)
    with pytest.raises(support.SupportError):
        support.open_ticket(student, "reservation", "Sujet", "Bonjour", now, appointment=someone_elses)
    assert db.session.scalars(select(TicketMessage)).all() == []


def test_a_message_payload_links_each_side_to_its_page_of_the_conversation(db, make, now, base):
    appointment = make.appointment()
    tutor_user = appointment.tutor.user
    message = messaging.send(appointment, tutor_user, "N'oubliez pas vos exercices.", now)
    db.session.commit()

    [event] = queued(db, OutboxEventType.MESSAGE_SENT)
    data = event.payload
    assert data["sender"] == {
        "id": tutor_user.id,
        "role": "tutor",
        "name": appointment.tutor.display_name,
        "email": tutor_user.email,
    }
    assert data["recipient"]["id"] == appointment.student.id and data["recipient"]["role"] == "student"
    assert data["url"] == f"{base}/tableau-de-bord/seances/{appointment.id}/messages"
    assert (data["message_id"], data["text"], data["attachments"]) == (message.id, "N'oubliez pas vos exercices.", [])
    to_tutor = check("message.sent", events.message_sent(message, tutor_user))
    assert to_tutor["url"] == f"{base}/admin/mes-rendez-vous/messages/{appointment.id}"


# --- tutors and catalogue ----------------------------------------------------------------------


def test_paying_a_tutors_month_announces_the_amount_and_month_in_french(db, make, now):
    admin = make.user(role="admin")
    month = previous_month(now)
    order = make.booked_order(items=1, first_start=local_instant(month.replace(day=5), time(14)))
    appointment = order.items[0].appointment
    make.complete(appointment)
    tutor = appointment.tutor
    paid_on = max(next_month(month), local_today(now) - timedelta(days=1))

    payout = mark_paid(tutor, month.year, month.month, "VIR-1001", paid_on, admin, now)
    db.session.commit()

    [event] = queued(db, OutboxEventType.PAYOUT_PAID)
    data = event.payload
    assert event.dedupe_key == f"payout.paid:payout:{payout.id}"
    assert data["tutor"] == {"id": tutor.id, "name": tutor.display_name, "email": tutor.user.email}
    assert data["month"] == f"{month:%Y-%m}" and data["month_text"].endswith(str(month.year))
    assert data["minutes"] == 60 and data["amount"] == {"cents": 2500, "formatted": f"25,00{NBSP}$"}
    assert data["confirmation_number"] == "VIR-1001"


def test_the_office_creating_a_course_announces_it_with_its_public_page(client, db, make, login_as, base):
    login_as("admin")
    tutor = make.tutor(display_name="Julie Martin")
    db.session.commit()
    data = {
        "title": "Calcul I",
        "slug": "mat-1000",
        "full_name": "MAT 1000 – Calcul I",
        "sigle": "MAT-1000",
        "institution": "Université Laval",
        "description": "",
        "rate_cents": "52,50",
        "tutors": [tutor.id],
        "active": "y",
    }

    assert client.post("/admin/cours/new/", data=data).status_code == 302

    [event] = queued(db, OutboxEventType.COURSE_CREATED)
    course = event.payload["course"]
    assert course["title"] == "Calcul I" and course["url"] == f"{base}/cours/mat-1000"
    assert course["rate"] == {"cents": 5250, "formatted": f"52,50{NBSP}$"}
    assert [t["name"] for t in event.payload["tutors"]] == ["Julie Martin"]
    assert event.dedupe_key == f"course.created:course:{course['id']}"


def test_editing_a_course_announces_nothing(client, db, make, login_as):
    login_as("admin")
    course = make.course()
    db.session.commit()
    data = {"title": "Nouveau titre", "slug": course.slug, "rate_cents": "45", "active": "y"}

    assert client.post(f"/admin/cours/edit/?id={course.id}", data=data).status_code == 302
    assert queued(db, OutboxEventType.COURSE_CREATED) == []


def test_a_new_tutor_rate_is_audited_and_announced_with_both_amounts(client, db, make, login_as):
    admin = login_as("admin")
    tutor = make.tutor(hourly_rate_cents=2500)
    db.session.commit()
    form = {"user": tutor.user_id, "display_name": tutor.display_name, "priority": "5", "active": "y"}

    assert (
        client.post(f"/admin/tuteurs/edit/?id={tutor.id}", data={**form, "hourly_rate_cents": "31,75"}).status_code
        == 302
    )
    assert (
        client.post(f"/admin/tuteurs/edit/?id={tutor.id}", data={**form, "hourly_rate_cents": "31,75"}).status_code
        == 302
    )

    [event] = queued(db, OutboxEventType.TUTOR_RATE_UPDATED)
    assert event.payload["tutor"]["id"] == tutor.id
    assert event.payload["previous_rate"] == {"cents": 2500, "formatted": f"25,00{NBSP}$"}
    assert event.payload["new_rate"] == {"cents": 3175, "formatted": f"31,75{NBSP}$"}
    [log] = db.session.scalars(select(AuditLog).where(AuditLog.action == "tutor.rate_changed")).all()
    assert log.actor_id == admin.id and log.after == {"hourly_rate_cents": 3175}


def test_a_rate_left_unchanged_is_neither_audited_nor_announced(db, make, now):
    tutor = make.tutor()
    db.session.commit()
    tutor.priority = 3

    assert catalog.record_rate_change(tutor, None, now) is None
    assert queued(db, OutboxEventType.TUTOR_RATE_UPDATED) == []


def test_availability_edits_in_the_back_office_are_announced_with_each_change(client, db, make, login_as):
    login_as("staff")
    tutor = make.tutor()
    db.session.commit()

    for start, end in (("09:00", "12:00"), ("13:00", "15:00")):
        data = {"tutor": str(tutor.id), "weekday": "0", "start_time": start, "end_time": end}
        assert client.post("/admin/horaires/new/", data=data).status_code == 302
    first = db.session.scalar(select(WeeklyRule).order_by(WeeklyRule.start_time))
    assert client.post("/admin/horaires/delete/", data={"id": str(first.id)}).status_code == 302

    rows = queued(db, OutboxEventType.TUTOR_AVAILABILITY_UPDATED)
    assert {row.payload["tutor"]["id"] for row in rows} == {tutor.id}
    assert [change for row in rows for change in row.payload["changes"]] == [
        "Plage hebdomadaire ajoutée : Lundi 09:00–12:00",
        "Plage hebdomadaire ajoutée : Lundi 13:00–15:00",
        "Plage hebdomadaire supprimée : Lundi 09:00–12:00",
    ]


def test_an_availability_form_saved_without_a_change_announces_nothing(client, db, make, login_as):
    login_as("staff")
    tutor = make.tutor()
    rule = make.weekly_rule(tutor, weekday=0, start=time(9), end=time(12))
    db.session.commit()
    data = {"tutor": str(tutor.id), "weekday": "0", "start_time": "09:00", "end_time": "12:00"}

    assert client.post(f"/admin/horaires/edit/?id={rule.id}", data=data).status_code == 302
    assert queued(db, OutboxEventType.TUTOR_AVAILABILITY_UPDATED) == []
    assert client.post(f"/admin/horaires/edit/?id={rule.id}", data={**data, "end_time": "13:00"}).status_code == 302
    [event] = queued(db, OutboxEventType.TUTOR_AVAILABILITY_UPDATED)
    assert event.payload["changes"] == ["Plage hebdomadaire modifiée : Lundi 09:00–13:00"]


def test_a_tutors_own_time_off_is_announced(client, db, make, login):
    tutor = make.tutor()
    db.session.commit()
    login(tutor.user)
    data = {"starts_at": "2026-12-24 08:00", "ends_at": "2026-12-27 20:00", "reason": "Fêtes"}

    assert client.post("/admin/mes-conges/new/", data=data).status_code == 302

    [event] = queued(db, OutboxEventType.TUTOR_AVAILABILITY_UPDATED)
    assert event.payload["changes"] == [
        f"Congé ajouté : du 24 décembre 2026 à 08{NBSP}h{NBSP}00 au 27 décembre 2026 à 20{NBSP}h{NBSP}00"
    ]


def test_availability_changes_within_a_minute_make_one_event_until_it_is_claimed(db, make, now):
    tutor = make.tutor()

    availability.announce_change(tutor, "Plage hebdomadaire ajoutée : Lundi 09:00–12:00", now)
    availability.announce_change(tutor, "Exception ajoutée : 24 décembre 2026, Fermé", now)
    db.session.commit()
    [event] = queued(db, OutboxEventType.TUTOR_AVAILABILITY_UPDATED)
    assert len(event.payload["changes"]) == 2

    event.claim_token, event.claimed_until = "a" * 32, now + timedelta(minutes=1)
    availability.announce_change(tutor, "Congé supprimé : …", now)
    db.session.commit()
    first, second = queued(db, OutboxEventType.TUTOR_AVAILABILITY_UPDATED)
    assert len(first.payload["changes"]) == 2 and second.payload["changes"] == ["Congé supprimé : …"]


# --- the contract itself -----------------------------------------------------------------------


def doc_sections():
    """{event type: text of its section} from docs/webhooks.md (sections titled ### `type`)."""
    text = (DOCS / "webhooks.md").read_text(encoding="utf-8")
    parts = re.split(r"^### `([a-z._]+)`\s*$", text, flags=re.MULTILINE)
    return dict(zip(parts[1::2], parts[2::2], strict=True))


def test_every_event_type_has_a_valid_schema_and_a_documented_section():
    sections = doc_sections()
    for event_type in OutboxEventType:
        schema = schema_of(event_type.value)
        Draft202012Validator.check_schema(schema)
        assert schema["additionalProperties"] is False and schema["required"], event_type
        assert event_type.value in sections, f"docs/webhooks.md has no section for {event_type.value}"
    assert {p.stem for p in SCHEMAS.glob("*.json")} == set(OutboxEventType.values())


def test_the_summary_table_gives_each_type_its_family():
    text = (DOCS / "webhooks.md").read_text(encoding="utf-8")
    for event_type, family in EVENT_FAMILIES.items():
        assert re.search(rf"^\| `{re.escape(event_type.value)}` \| {family} \|", text, re.MULTILINE), event_type


@pytest.mark.parametrize("event_type", OutboxEventType.values())
def test_the_documented_example_matches_the_schema(event_type):
    example = re.search(r"```json\n(.*?)\n```", doc_sections()[event_type], re.DOTALL)
    assert example, f"no example for {event_type}"
    check(event_type, json.loads(example.group(1)))


def test_a_payload_with_an_unknown_field_is_refused_by_the_schema(make):
    data = events.signup(make.user())
    Draft202012Validator(schema_of("signup")).validate(data)
    assert not Draft202012Validator(schema_of("signup")).is_valid({**data, "extra": 1})
