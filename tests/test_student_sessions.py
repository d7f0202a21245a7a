"""The student's dashboard and session pages: cancelling for a credit, moving, who may see what."""

import html
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from tutoradmin import appointments, credits, rescheduling
from tutoradmin.appointments import AppointmentError
from tutoradmin.models import (
    Appointment,
    AppointmentStatus,
    CreditEntry,
    OutboxEvent,
    Role,
    SlotLock,
    User,
    UserStatus,
)
from tutoradmin.slots import BookingRules

from .query_counts import count_queries
from .shopping import count, row_counts

NOTICE = 2


def _booked(make, offer, hour=10, days=0, student=None, **fields):
    if student is not None:
        fields["user"] = student
    order = make.booked_order(
        items=1, course=offer.course, tutor=offer.tutors[0], first_start=offer.at(hour, days=days), **fields
    )
    return order.items[0].appointment


def _text(response):
    return re.sub(r"\s+", " ", html.unescape(response.get_data(as_text=True)))


# Cancelling: the domain rule


def test_a_cancellation_credits_the_price_less_the_coupon_share_card_and_credit_parts_alike(db, make, offer, now):
    # Two sessions at 45 $: a 10 $ coupon (5 $ each) and 30 $ of credit (15 $ each), the rest by card.
    order = make.booked_order(
        items=2,
        course=offer.course,
        tutor=offer.tutors[0],
        first_start=offer.at(10),
        discount_cents=1000,
        credit_cents=3000,
    )
    appointment = order.items[0].appointment
    assert (order.items[0].credit_cents, order.items[0].card_cents) == (1500, 2500)

    credit = appointments.student_cancel(appointment, order.user, now, NOTICE)
    db.session.commit()

    assert credit == 4000
    assert credits.balance_cents(order.user_id) == 4000
    assert appointment.status == AppointmentStatus.CANCELLED
    assert count(db, SlotLock, SlotLock.appointment_id == appointment.id) == 0  # the time is free at once
    event = db.session.scalar(select(OutboxEvent).where(OutboxEvent.event_type == "booking.cancelled"))
    assert event.payload["credit"]["cents"] == 4000
    assert event.ordering_key == f"student:{order.user_id}"


def test_a_student_may_cancel_until_exactly_the_notice_before_the_start(db, make, offer):
    appointment = _booked(make, offer)
    assert appointments.student_cancel(appointment, appointment.student, appointment.starts_at - timedelta(hours=2), 2)


def test_a_cancellation_a_second_too_late_is_refused_with_the_time_limit_and_nothing_changes(db, make, offer):
    appointment = _booked(make, offer)
    db.session.commit()
    too_late = appointment.starts_at - timedelta(hours=2) + timedelta(seconds=1)
    with pytest.raises(AppointmentError) as refused:
        appointments.student_cancel(appointment, appointment.student, too_late, NOTICE)
    assert "2 h avant son début" in refused.value.message
    assert "jusqu'au" in refused.value.message and "à 08\u00a0h\u00a000" in refused.value.message
    db.session.rollback()
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.SCHEDULED
    assert count(db, CreditEntry) == 0
    assert count(db, SlotLock, SlotLock.appointment_id == appointment.id) == 2


def test_a_student_cannot_cancel_someone_elses_session_or_one_already_cancelled(db, make, offer, now):
    appointment = _booked(make, offer)
    with pytest.raises(AppointmentError):
        appointments.student_cancel(appointment, make.user(), now, NOTICE)
    appointments.student_cancel(appointment, appointment.student, now, NOTICE)
    with pytest.raises(AppointmentError, match="déjà annulé"):
        appointments.student_cancel(appointment, appointment.student, now, NOTICE)


# Pages


def test_cancelling_through_the_page_flashes_the_credit_and_the_dashboard_shows_it(db, make, offer, client, login):
    appointment = _booked(make, offer, discount_cents=500)
    student = appointment.student
    db.session.commit()
    login(student)

    response = client.post(f"/tableau-de-bord/seances/{appointment.id}/annuler", follow_redirects=True)

    assert response.status_code == 200
    assert "un crédit de 40,00 $ a été ajouté" in _text(response)
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.CANCELLED
    dashboard = _text(client.get("/tableau-de-bord"))
    assert "Crédit de 40,00 $ ajouté à votre compte" in dashboard
    assert 'id="credit-balance">40,00 $' in dashboard
    assert "Annulée" in dashboard


def test_a_late_cancellation_through_the_page_is_refused_in_french(db, make, offer, client, login, now):
    appointment = make.appointment(
        tutor=offer.tutors[0],
        course=offer.course,
        starts_at=now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=2),
    )
    db.session.commit()
    login(appointment.student)
    before = row_counts(db)

    page = _text(client.get(f"/tableau-de-bord/seances/{appointment.id}"))
    assert "Annuler la séance" not in page and "au plus tard 2 h avant son début" in page
    response = client.post(f"/tableau-de-bord/seances/{appointment.id}/annuler", follow_redirects=True)

    assert "Trop tard pour annuler en ligne" in _text(response)
    assert row_counts(db) == before


def test_the_session_page_shows_the_time_limits_and_its_history(db, make, offer, client, login, now):
    appointment = _booked(make, offer)
    student = appointment.student
    db.session.commit()
    # Booked at checkout (no actor), then moved by the student.
    from tutoradmin.models import AppointmentChange

    db.session.add(AppointmentChange(appointment_id=appointment.id, kind="created", new_starts_at=offer.at(10)))
    rescheduling.move(appointment, offer.at(14), student, now, rules=BookingRules())
    db.session.commit()
    login(student)

    page = _text(client.get(f"/tableau-de-bord/seances/{appointment.id}"))

    assert "Annulable jusqu'au" in page and "Déplaçable jusqu'au" in page
    assert "Réservée en ligne" in page
    assert re.search(r"Déplacée par vous du \d+ \w+ \d{4} à 10 h 00 au \d+ \w+ \d{4} à 14 h 00", page), page
    assert f"/tableau-de-bord/seances/{appointment.id}.ics" in page

    client.post(f"/tableau-de-bord/seances/{appointment.id}/annuler")
    page = _text(client.get(f"/tableau-de-bord/seances/{appointment.id}"))
    assert "Annulée par vous : Annulée par l'étudiant" in page
    assert "Crédit de 45,00 $" in page


def test_the_move_calendar_lists_slots_asks_for_confirmation_then_moves(db, make, offer, client, login):
    appointment = _booked(make, offer)
    db.session.commit()
    login(appointment.student)
    url = f"/tableau-de-bord/seances/{appointment.id}/deplacer"
    target = offer.at(14, days=1)

    calendar = client.get(url, query_string={"date": (offer.day + timedelta(days=1)).isoformat()})
    assert calendar.status_code == 200
    assert target.isoformat() in calendar.get_data(as_text=True)
    confirm = _text(client.get(url, query_string={"debut": target.isoformat()}))
    assert "Confirmer le déplacement" in confirm

    response = client.post(url, data={"debut": target.isoformat()}, follow_redirects=True)

    assert "Séance déplacée" in _text(response)
    assert db.session.get(Appointment, appointment.id).starts_at == target


@pytest.mark.parametrize(
    "debut, message",
    [
        ("", "L'heure de début est obligatoire."),
        ("demain", "Heure de début invalide"),
        ("2026-12-07T09:00:00", "doit préciser son fuseau horaire"),
        ("9999-12-07T09:00:00-05:00", "Heure de début invalide"),
        ("2026-12-07T09:15:00-05:00", "Ce créneau n'est plus disponible"),
    ],
)
def test_bad_slot_parameters_are_refused_in_french_and_nothing_changes(db, make, offer, client, login, debut, message):
    appointment = _booked(make, offer)
    db.session.commit()
    login(appointment.student)
    before = row_counts(db)

    response = client.post(
        f"/tableau-de-bord/seances/{appointment.id}/deplacer", data={"debut": debut}, follow_redirects=True
    )

    assert response.status_code == 200
    assert message in _text(response)
    assert row_counts(db) == before
    assert db.session.get(Appointment, appointment.id).starts_at == offer.at(10)


def test_a_slot_taken_meanwhile_shows_it_is_no_longer_available(db, make, offer, client, login):
    appointment = _booked(make, offer)
    target = offer.at(14, days=1)
    for tutor in offer.tutors:
        make.appointment(tutor=tutor, course=offer.course, starts_at=target)
    db.session.commit()
    login(appointment.student)
    url = f"/tableau-de-bord/seances/{appointment.id}/deplacer"

    assert "Ce créneau n'est plus disponible" in _text(client.get(url, query_string={"debut": target.isoformat()}))
    response = client.post(url, data={"debut": target.isoformat()}, follow_redirects=True)
    assert "Ce créneau n'est plus disponible" in _text(response)
    assert db.session.get(Appointment, appointment.id).starts_at == offer.at(10)


def test_the_move_page_is_closed_less_than_a_day_before(db, make, offer, client, login, now):
    start = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=20)
    appointment = make.appointment(tutor=offer.tutors[0], course=offer.course, starts_at=start)
    db.session.commit()
    login(appointment.student)

    response = client.get(f"/tableau-de-bord/seances/{appointment.id}/deplacer", follow_redirects=True)

    assert "Trop tard pour déplacer en ligne" in _text(response)


@pytest.mark.parametrize("page", ["0", "-1", "abc", "2", "1e3"])
def test_a_bad_page_number_of_past_sessions_is_a_french_404(make, client, login, page):
    login(make.user())
    response = client.get("/tableau-de-bord", query_string={"page": page})
    assert response.status_code == 404
    assert "Page introuvable" in response.get_data(as_text=True)


def test_past_sessions_are_paginated_latest_first(db, make, offer, client, login, now):
    student = make.user()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=40)
    for day in range(12):
        make.appointment(
            student=student,
            tutor=offer.tutors[0],
            course=offer.course,
            starts_at=start + timedelta(days=day),
            status="completed",
        )
    db.session.commit()
    login(student)

    first = _text(client.get("/tableau-de-bord"))
    second = _text(client.get("/tableau-de-bord?page=2"))

    assert first.count('class="reservation"') == 10 and "Page 1 sur 2" in first
    assert second.count('class="reservation"') == 2 and "Page 2 sur 2" in second


def test_the_dashboard_takes_the_same_queries_whatever_the_number_of_sessions(db, make, offer, client, login, now):
    def sessions_of(student, number, shift):
        for index in range(number):
            appointment = _booked(make, offer, hour=9 + index % 8, days=shift + index // 8, student=student)
            if index % 3 == 0:
                appointments.cancel(appointment, "Empêchement", student, now)
        past = now.replace(minute=0, second=0, microsecond=0) - timedelta(days=3 + shift * 10)
        for index in range(number):
            make.appointment(
                student=student,
                tutor=offer.tutors[1],
                course=offer.course,
                starts_at=past - timedelta(days=index),
                status="completed",
            )

    few, many = make.user(), make.user()
    sessions_of(few, 1, 0)
    sessions_of(many, 9, 2)
    db.session.commit()
    counts = []
    for student in (few, many):
        login(student)
        with count_queries(db) as statements:
            assert client.get("/tableau-de-bord").status_code == 200
        counts.append(len(statements))
        client.post("/deconnexion")
    assert counts[0] == counts[1], counts


# Who may see what


def _urls(appointment_id):
    base = f"/tableau-de-bord/seances/{appointment_id}"
    return [("get", base), ("post", f"{base}/annuler"), ("get", f"{base}/deplacer"), ("post", f"{base}/deplacer")]


@pytest.mark.parametrize("index", range(4))
def test_another_students_session_is_not_found_on_every_url(db, make, offer, client, login, index):
    appointment = _booked(make, offer)
    db.session.commit()
    login(make.user())
    before = row_counts(db)
    method, url = _urls(appointment.id)[index]
    response = getattr(client, method)(url, data={"debut": offer.at(14).isoformat()} if method == "post" else None)
    assert response.status_code == 404
    assert row_counts(db) == before


@pytest.mark.parametrize("index", range(5))
def test_an_anonymous_visitor_is_sent_to_the_login_page(db, make, offer, client, index):
    appointment = _booked(make, offer)
    db.session.commit()
    method, url = [("get", "/tableau-de-bord"), *_urls(appointment.id)][index]
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert "/connexion" in response.headers["Location"]
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.SCHEDULED


@pytest.mark.parametrize("role", [Role.ADMIN, Role.STAFF, Role.ACCOUNTANT, "tutor"])
def test_office_roles_and_tutors_have_no_student_pages(db, make, offer, client, login_as, role):
    appointment = _booked(make, offer)
    db.session.commit()
    login_as(str(role))
    for method, url in [("get", "/tableau-de-bord"), *_urls(appointment.id)]:
        assert getattr(client, method)(url).status_code == 403, url
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.SCHEDULED


def test_a_suspended_student_is_signed_out_of_their_pages(db, make, offer, client, login):
    appointment = _booked(make, offer)
    db.session.commit()
    login(appointment.student)
    db.session.get(User, appointment.student_id).status = UserStatus.SUSPENDED.value
    db.session.commit()
    for method, url in [("get", "/tableau-de-bord"), *_urls(appointment.id)]:
        response = getattr(client, method)(url)
        assert response.status_code == 302 and "/connexion" in response.headers["Location"], url
    assert db.session.get(Appointment, appointment.id).status == AppointmentStatus.SCHEDULED


def test_the_demo_student_has_sessions_to_cancel_and_move_and_past_ones(app, db):
    from tutoradmin.models import utcnow

    assert app.test_cli_runner().invoke(args=["seed-demo"]).exit_code == 0
    now = utcnow()
    student = db.session.scalar(select(User).where(User.email == "etudiant@4as.ca"))
    sessions = db.session.scalars(select(Appointment).where(Appointment.student_id == student.id)).all()
    movable = [a for a in sessions if rescheduling.student_can_move(a, now, 24)]
    assert movable and all(appointments.student_can_cancel(a, now, 2) for a in movable)
    rules = BookingRules.from_config(app.config)
    assert any(rescheduling.opening_month(a, now, rules)[1] for a in movable)
    assert any(a.status == AppointmentStatus.COMPLETED for a in sessions)
