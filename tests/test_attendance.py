"""Attendance marks: who may mark what and when, the student's credit, corrections, defaults, the mark pages."""

import html
import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tutoradmin import appointments, attendance, credits
from tutoradmin.attendance import AttendanceError, awaiting_mark, credit_cents, mark, mark_defaults
from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import (
    Appointment,
    AppointmentChange,
    AuditLog,
    CreditEntry,
    CreditKind,
    OutboxEvent,
    PayoutAdjustment,
)
from tutoradmin.payouts import mark_paid

from .races import logged_in, race
from .shopping import count
from .test_event_payloads import check

# Mid-April 2026: March is over and payable.
NOW = datetime(2026, 4, 10, 15, 0, tzinfo=UTC)


def local(*args):
    return datetime(*args, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def tutor(make):
    return make.tutor(hourly_rate_cents=4000)


@pytest.fixture
def course(make, tutor):
    course = make.course(title="Calcul I", rate_cents=8000)
    tutor.courses.append(course)
    return course


@pytest.fixture
def staff(make):
    return make.user(role="staff")


@pytest.fixture
def paid_session(db, make, tutor, course):
    """A session paid 80,00 $ with a 10,00 $ coupon share (70,00 $ paid), of `tutor`, at a local time."""

    def _session(start=None, discount_cents=1000):
        order = make.booked_order(
            items=1,
            course=course,
            tutor=tutor,
            discount_cents=discount_cents,
            first_start=start or local(2026, 4, 9, 10),
        )
        return order.items[0].appointment

    return _session


def _credit_lines(db, appointment):
    return db.session.scalars(
        select(CreditEntry).where(CreditEntry.appointment_id == appointment.id).order_by(CreditEntry.id)
    ).all()


def _events(db, appointment):
    return db.session.scalars(
        select(OutboxEvent)
        .where(OutboxEvent.event_type == "booking.attendance", OutboxEvent.dedupe_key.contains(f":{appointment.id}:"))
        .order_by(OutboxEvent.id)
    ).all()


# --- the student's credit ------------------------------------------------------------------


def test_a_late_cancellation_credits_half_of_what_the_student_paid(db, paid_session, tutor):
    appointment = paid_session()

    result = mark(appointment, tutor.user, "late_cancel", "Prévenu 1 h avant", NOW)
    db.session.commit()

    assert result.credit_change_cents == 3500  # (80,00 $ − 10,00 $ coupon) × 50 %
    [line] = _credit_lines(db, appointment)
    assert (line.kind, line.amount_cents, line.user_id) == ("credit", 3500, appointment.student_id)
    assert line.reason == "Annulation tardive — 50 % de la séance du 9 avril 2026 à 10\u00a0h\u00a000"
    assert credits.balance_cents(appointment.student_id) == 3500
    db.session.expire_all()
    marked = db.session.get(Appointment, appointment.id)
    assert (marked.status, marked.attendance, marked.tutor_share_percent, marked.student_credit_percent) == (
        "completed",
        "late_cancel",
        50,
        50,
    )
    assert (marked.attendance_note, marked.attendance_marked_by_id, marked.attendance_marked_at) == (
        "Prévenu 1 h avant",
        tutor.user.id,
        NOW,
    )
    assert marked.completed_at == NOW


@pytest.mark.parametrize(("kind", "credit", "tutor_percent"), [("present", 0, 100), ("no_show", 0, 100)])
def test_present_and_no_show_give_no_credit_under_the_default_policy(
    db, paid_session, tutor, kind, credit, tutor_percent
):
    appointment = paid_session()

    assert mark(appointment, tutor.user, kind, "", NOW).credit_change_cents == credit
    assert _credit_lines(db, appointment) == []
    assert (appointment.tutor_share_percent, appointment.student_credit_percent) == (tutor_percent, 0)


def test_the_credit_is_rounded_half_up_to_the_cent(db, paid_session):
    appointment = paid_session(discount_cents=1)  # 79,99 $ paid

    assert credit_cents(appointment, 50) == 4000  # 3999,5 ¢
    assert credit_cents(appointment, 33) == 2640  # 2639,67 ¢
    assert credit_cents(appointment, 0) == 0


def test_a_session_booked_without_payment_gives_no_credit(db, make, tutor, course):
    appointment = make.appointment(tutor=tutor, course=course, starts_at=local(2026, 4, 9, 10))

    assert mark(appointment, tutor.user, "late_cancel", "", NOW).credit_change_cents == 0
    assert _credit_lines(db, appointment) == []
    assert appointment.student_credit_percent == 50


# --- who may mark, and when ----------------------------------------------------------------


def test_a_tutor_cannot_mark_another_tutors_session(db, make, paid_session):
    appointment = paid_session()
    other = make.tutor()

    with pytest.raises(AttendanceError, match="n'est pas la vôtre"):
        mark(appointment, other.user, "present", "", NOW)


@pytest.mark.parametrize("role", ["student", "accountant"])
def test_students_and_the_accountant_cannot_mark(db, make, paid_session, role):
    appointment = paid_session()

    with pytest.raises(AttendanceError, match="ne pouvez pas"):
        mark(appointment, make.user(role=role), "present", "", NOW)


def test_a_session_is_marked_only_after_its_end(db, paid_session, tutor):
    appointment = paid_session(start=NOW - timedelta(minutes=30))

    with pytest.raises(AttendanceError, match="après la fin de la séance"):
        mark(appointment, tutor.user, "no_show", "", NOW)
    assert mark(appointment, tutor.user, "no_show", "", NOW + timedelta(minutes=30)).appointment.attendance == "no_show"


def test_a_cancelled_session_cannot_be_marked(db, paid_session, staff):
    appointment = paid_session()
    appointment.status, appointment.cancelled_at = "cancelled", NOW

    with pytest.raises(AttendanceError, match="annulée"):
        mark(appointment, staff, "present", "", NOW)


def test_unknown_marks_and_long_notes_are_refused(db, paid_session, tutor):
    appointment = paid_session()

    with pytest.raises(AttendanceError, match="présent, absent ou annulation tardive"):
        mark(appointment, tutor.user, "completed", "", NOW)
    with pytest.raises(AttendanceError, match="1000 caractères"):
        mark(appointment, tutor.user, "present", "x" * 1001, NOW)
    assert appointment.attendance is None


def test_a_tutor_may_change_their_mark_but_not_the_offices(db, paid_session, tutor, staff):
    appointment = paid_session()
    mark(appointment, tutor.user, "no_show", "", NOW)

    mark(appointment, tutor.user, "late_cancel", "Il a téléphoné", NOW)
    with pytest.raises(AttendanceError, match="rien n'a changé"):
        mark(appointment, tutor.user, "late_cancel", "Il a téléphoné", NOW)
    mark(appointment, staff, "present", "", NOW)
    with pytest.raises(AttendanceError, match="L'équipe de 4AS a corrigé"):
        mark(appointment, tutor.user, "no_show", "", NOW)


def test_a_tutor_may_change_a_default_mark(db, paid_session, tutor):
    appointment = paid_session(start=NOW - timedelta(days=3))
    assert mark_defaults(NOW, 48) == 1

    mark(appointment, tutor.user, "no_show", "", NOW)

    assert db.session.get(Appointment, appointment.id).attendance == "no_show"


# --- corrections ---------------------------------------------------------------------------


def test_a_correction_takes_back_or_adds_the_credit_difference(db, paid_session, tutor, staff):
    appointment = paid_session()
    mark(appointment, tutor.user, "late_cancel", "", NOW)

    assert mark(appointment, staff, "present", "", NOW).credit_change_cents == -3500
    assert mark(appointment, staff, "late_cancel", "", NOW).credit_change_cents == 3500
    db.session.commit()

    lines = [(line.kind, line.amount_cents) for line in _credit_lines(db, appointment)]
    assert lines == [("credit", 3500), ("debit", 3500), ("credit", 3500)]
    assert _credit_lines(db, appointment)[1].reason.startswith("Présence corrigée : Présent — crédit de la séance")
    assert credits.balance_cents(appointment.student_id) == 3500
    audits = db.session.scalars(select(AuditLog).where(AuditLog.action == "attendance.corrected")).all()
    assert [(a.before["attendance"], a.after["attendance"], a.after["credit_change_cents"]) for a in audits] == [
        ("late_cancel", "present", -3500),
        ("present", "late_cancel", 3500),
    ]


def test_a_correction_taking_back_credit_already_spent_is_refused(db, paid_session, tutor, staff):
    appointment = paid_session()
    mark(appointment, tutor.user, "late_cancel", "", NOW)
    credits.add_entry(appointment.student_id, CreditKind.DEBIT, 3000, "Commande", NOW)
    db.session.commit()

    with pytest.raises(AttendanceError, match="déjà utilisé le crédit") as refused:
        mark(appointment, staff, "no_show", "", NOW)
    db.session.rollback()

    assert "reprendrait 35,00" in str(refused.value) and "que de 5,00" in str(refused.value)
    assert db.session.get(Appointment, appointment.id).attendance == "late_cancel"
    assert credits.balance_cents(appointment.student_id) == 500


def test_each_mark_writes_its_history_line_and_event(db, paid_session, tutor, staff):
    appointment = paid_session()
    mark(appointment, tutor.user, "no_show", "Pas venu", NOW)
    mark(appointment, staff, "late_cancel", "A prévenu le bureau", NOW)
    db.session.commit()

    history = db.session.scalars(
        select(AppointmentChange)
        .where(AppointmentChange.appointment_id == appointment.id)
        .order_by(AppointmentChange.id)
    ).all()
    assert [(c.kind, c.reason, c.actor_id) for c in history if c.kind == "attendance"] == [
        ("attendance", "Absent", tutor.user.id),
        ("attendance", "Annulation tardive (correction)", staff.id),
    ]
    sent = _events(db, appointment)
    assert [e.dedupe_key for e in sent] == [
        f"booking.attendance:appointment:{appointment.id}:1",
        f"booking.attendance:appointment:{appointment.id}:2",
    ]
    assert {e.ordering_key for e in sent} == {f"student:{appointment.student_id}"}
    data = [check("booking.attendance", e.payload) for e in sent]
    assert [(d["mark"], d["mark_text"], d["note"]) for d in data] == [
        ("absent", "Absent", "Pas venu"),
        ("late_cancellation", "Annulation tardive", "A prévenu le bureau"),
    ]
    assert data[0]["session"]["appointment_id"] == appointment.id


def test_cancelling_a_marked_session_credits_only_what_its_mark_did_not(db, paid_session, tutor, staff):
    appointment = paid_session()
    mark(appointment, tutor.user, "late_cancel", "", NOW)

    assert appointments.cancel(appointment, "Geste commercial", staff, NOW) == 3500
    db.session.commit()

    assert credits.balance_cents(appointment.student_id) == 7000  # what was paid, once
    assert db.session.get(Appointment, appointment.id).attendance == "late_cancel"


# --- the policy in force when marked -------------------------------------------------------


def test_a_policy_change_applies_to_sessions_marked_afterwards(db, make, paid_session, tutor):
    first = paid_session(start=local(2026, 4, 8, 10))
    second = paid_session(start=local(2026, 4, 9, 10))
    mark(first, tutor.user, "late_cancel", "", NOW)
    values = {**attendance.policy_values(attendance.current_policy())}
    values.update(late_cancel_tutor_percent=30, late_cancel_credit_percent=40)
    attendance.change_policy(make.user(role="admin"), values, NOW)

    mark(second, tutor.user, "late_cancel", "", NOW)
    db.session.commit()

    assert (first.tutor_share_percent, first.student_credit_percent) == (50, 50)
    assert (second.tutor_share_percent, second.student_credit_percent) == (30, 40)
    assert [line.amount_cents for line in _credit_lines(db, second)] == [2800]  # 70,00 $ × 40 %
    # Marked again, the first session takes the policy in force then.
    mark(first, tutor.user, "late_cancel", "Correction", NOW)
    assert (first.tutor_share_percent, first.student_credit_percent) == (30, 40)
    assert [line.amount_cents for line in _credit_lines(db, first)] == [3500, 700]


# --- after the tutor's month is paid -------------------------------------------------------


@pytest.fixture
def paid_march(db, make, paid_session, tutor):
    """A March session marked présent by its tutor, and March paid (40,00 $)."""
    appointment = paid_session(start=local(2026, 3, 20, 10))
    mark(appointment, tutor.user, "present", "", NOW)
    mark_paid(tutor, 2026, 3, "VIR-1", date(2026, 4, 5), make.user(role="admin"), NOW)
    db.session.commit()
    return appointment


def test_a_tutor_cannot_change_a_mark_once_the_month_is_paid(db, paid_march, tutor):
    with pytest.raises(AttendanceError, match="déjà payé"):
        mark(paid_march, tutor.user, "no_show", "", NOW)


def test_a_staff_correction_after_payment_becomes_an_adjustment_on_the_next_statement(
    db, make, paid_march, paid_session, tutor, staff
):
    result = mark(paid_march, staff, "late_cancel", "Annulé par téléphone", NOW)
    db.session.commit()

    adjustment = result.adjustment
    assert adjustment.amount_cents == -2000  # 40,00 $ earned, 50 % now
    assert (adjustment.tutor_id, adjustment.appointment_id, adjustment.applied_payout_id) == (
        tutor.id,
        paid_march.id,
        None,
    )
    assert adjustment.source_payout_id is not None
    assert adjustment.reason.startswith("Présence corrigée : séance du 20 mars 2026")
    assert result.credit_change_cents == 3500
    # A correction that changes nothing in the tutor's pay adds no adjustment.
    assert mark(paid_march, staff, "late_cancel", "", NOW).adjustment is None

    april = paid_session(start=local(2026, 4, 2, 10))
    mark(april, tutor.user, "present", "", NOW)
    payout = mark_paid(tutor, 2026, 4, "VIR-2", date(2026, 5, 2), staff, datetime(2026, 5, 2, 15, tzinfo=UTC))
    db.session.commit()

    assert (payout.earnings_cents, payout.adjustments_cents, payout.amount_cents) == (4000, -2000, 2000)
    assert db.session.get(PayoutAdjustment, adjustment.id).applied_payout_id == payout.id


# --- default marks -------------------------------------------------------------------------


def test_sessions_unmarked_after_the_grace_period_become_present_by_default(db, make, paid_session, tutor, staff):
    late = paid_session(start=NOW - timedelta(hours=50))  # ended 49 h ago
    recent = paid_session(start=NOW - timedelta(hours=48))  # ended 47 h ago
    by_hand = paid_session(start=NOW - timedelta(hours=60))
    mark(by_hand, staff, "no_show", "", NOW - timedelta(hours=1))
    cancelled = make.appointment(
        tutor=tutor, starts_at=NOW - timedelta(hours=72), status="cancelled", cancelled_at=NOW - timedelta(days=4)
    )
    db.session.commit()
    events_before = db.session.query(OutboxEvent).count()

    assert mark_defaults(NOW, 48) == 1
    db.session.commit()

    db.session.expire_all()
    rows = {a.id: (a.status, a.attendance, a.attendance_marked_by_id) for a in db.session.query(Appointment)}
    assert rows[late.id] == ("completed", "present", None)
    assert rows[recent.id] == ("scheduled", None, None)
    assert rows[by_hand.id] == ("completed", "no_show", staff.id)
    assert rows[cancelled.id] == ("cancelled", None, None)
    marked = db.session.get(Appointment, late.id)
    assert (marked.tutor_share_percent, marked.student_credit_percent, marked.attendance_marked_at) == (100, 0, NOW)
    history = db.session.scalars(select(AppointmentChange).where(AppointmentChange.appointment_id == late.id)).all()
    assert [(c.kind, c.reason, c.actor_id) for c in history if c.kind != "created"] == [
        ("attendance", "Présent (noté par défaut)", None)
    ]
    assert db.session.query(OutboxEvent).count() == events_before
    assert mark_defaults(NOW, 48) == 0


@pytest.mark.app_config(ATTENDANCE_GRACE_HOURS=2)
def test_flask_complete_appointments_uses_the_grace_period(app, db, make, tutor, course):
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    for hours_ago in (4, 5, 2):  # the last one ended 1 h ago
        make.appointment(tutor=tutor, course=course, starts_at=hour - timedelta(hours=hours_ago))
    db.session.commit()

    result = app.test_cli_runner().invoke(args=["complete-appointments"])

    assert result.exit_code == 0, result.output
    assert "Séances non notées 2 h après leur fin, marquées « présent » : 2." in result.output
    db.session.expire_all()
    assert sorted(a.status for a in db.session.query(Appointment)) == ["completed", "completed", "scheduled"]


def test_sessions_awaiting_a_mark_are_the_tutors_ended_unmarked_ones_oldest_first(db, make, paid_session, tutor):
    second = paid_session(start=NOW - timedelta(hours=5))
    first = paid_session(start=NOW - timedelta(days=3))
    paid_session(start=NOW + timedelta(hours=5))
    mark(paid_session(start=NOW - timedelta(hours=8)), tutor.user, "present", "", NOW)
    make.appointment(starts_at=NOW - timedelta(hours=6))  # another tutor's

    assert [a.id for a in awaiting_mark(tutor.id, NOW)] == [first.id, second.id]


# --- the mark pages ------------------------------------------------------------------------

ROLES = ["anonymous", "student", "accountant", "tutor", "other_tutor", "staff", "admin"]


@pytest.fixture
def ended(db, make):
    """A session paid 80,00 $ (10,00 $ coupon) that ended two hours ago, and its tutor."""
    hour = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    order = make.booked_order(
        items=1, discount_cents=1000, course=make.course(rate_cents=8000), first_start=hour - timedelta(hours=3)
    )
    db.session.commit()
    return order.items[0].appointment


def _text(response):
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("page", ["/admin/mes-rendez-vous/presence/{}", "/admin/rendez-vous/presence/{}"])
def test_who_opens_the_mark_pages(client, make, login, login_as, ended, role, page):
    if role == "tutor":
        login(ended.tutor.user)
    elif role == "other_tutor":
        login_as("tutor")
    elif role != "anonymous":
        login_as(role)

    response = client.get(page.format(ended.id))

    tutor_page = page.startswith("/admin/mes-")
    expected = {
        "anonymous": 302,
        "tutor": 200 if tutor_page else 403,
        "other_tutor": 404 if tutor_page else 403,
        "staff": 403 if tutor_page else 200,
        "admin": 403 if tutor_page else 200,
    }.get(role, 403)
    assert response.status_code == expected
    if role == "anonymous":
        assert "/connexion" in response.headers["Location"]


def test_the_tutor_marks_a_no_show_from_the_page_without_seeing_amounts(client, db, login, ended):
    login(ended.tutor.user)

    page = _text(client.get(f"/admin/mes-rendez-vous/presence/{ended.id}"))
    assert "Crédit à l'étudiant : 0 % ; votre part : 100 %." in page
    assert "Crédit à l'étudiant : 50 % ; votre part : 50 %." in page
    assert "moins de 24 h avant la séance compte comme" in page
    assert "$" not in page.split("<body", 1)[1]
    response = client.post(
        f"/admin/mes-rendez-vous/presence/{ended.id}?retour=accueil", data={"kind": "no_show", "note": "Absent"}
    )

    assert response.status_code == 302 and response.headers["Location"].endswith("/admin/")
    db.session.expire_all()
    assert (ended.attendance, ended.attendance_note, ended.tutor_share_percent) == ("no_show", "Absent", 100)
    page = _text(client.get(f"/admin/mes-rendez-vous/presence/{ended.id}"))
    assert "Présence notée : Absent" in page and "par vous" in page


def test_bad_marks_are_refused_in_french_and_write_nothing(client, db, login, ended):
    login(ended.tutor.user)

    for data, message in [
        ({"note": "x"}, "Choisissez la présence."),
        ({"kind": "completed"}, "Choisissez présent, absent ou annulation tardive."),
        ({"kind": "present", "note": "x" * 1001}, "ne peut dépasser 1000 caractères"),
    ]:
        response = client.post(f"/admin/mes-rendez-vous/presence/{ended.id}", data=data)
        assert response.status_code == 400 and message in _text(response)

    db.session.expire_all()
    assert ended.attendance is None and ended.status == "scheduled"


def test_a_session_not_over_yet_sends_the_tutor_back_with_the_reason(client, db, make, login):
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    appointment = make.booked_order(items=1, first_start=start).items[0].appointment
    db.session.commit()
    login(appointment.tutor.user)

    response = client.post(f"/admin/mes-rendez-vous/presence/{appointment.id}", data={"kind": "present"})

    assert response.status_code == 302
    assert "après la fin de la séance" in _text(client.get(response.headers["Location"]))
    db.session.expire_all()
    assert appointment.attendance is None


def test_the_office_corrects_a_mark_and_sees_the_credit_given(client, db, login_as, ended):
    mark(ended, ended.tutor.user, "present", "", datetime.now(UTC))
    db.session.commit()
    login_as("staff")

    page = _text(client.get(f"/admin/rendez-vous/presence/{ended.id}"))
    assert "Crédit à l'étudiant : 50 % (35,00\xa0$) ; part du tuteur : 50 %." in page
    response = client.post(f"/admin/rendez-vous/presence/{ended.id}", data={"kind": "late_cancel", "note": ""})

    assert response.status_code == 302
    assert "Crédit accordé à l'étudiant : 35,00" in _text(client.get(response.headers["Location"]))
    assert credits.balance_cents(ended.student_id) == 3500
    details = _text(client.get(f"/admin/rendez-vous/details/?id={ended.id}"))
    assert "Annulation tardive" in details and f"/admin/rendez-vous/presence/{ended.id}" in details


# --- at the same time (PostgreSQL) ---------------------------------------------------------


def test_a_mark_submitted_several_times_at_once_credits_the_student_once(app, db, pg_engine, quiet, ended):
    appointment_id, student_id = ended.id, ended.student_id
    clients = [logged_in(app, ended.tutor.user) for _ in range(4)]
    quiet()

    url = f"/admin/mes-rendez-vous/presence/{appointment_id}"
    results = race([lambda c=c: c.post(url, data={"kind": "late_cancel", "note": ""}) for c in clients])

    # The first one marks; the others wait for it, then find nothing to change.
    assert sorted(r.status_code for r in results) == [302, 400, 400, 400], results
    assert credits.balance_cents(student_id) == 3500
    assert count(db, OutboxEvent, OutboxEvent.event_type == "booking.attendance") == 1


def test_a_default_mark_never_overwrites_a_mark_made_at_the_same_time(app, db, pg_engine, quiet, ended):
    appointment_id = ended.id
    client = logged_in(app, ended.tutor.user)
    quiet()

    def defaults():
        with app.app_context():
            marked = mark_defaults(datetime.now(UTC), 1)
            db.session.commit()
            return marked

    results = race(
        [
            lambda: client.post(f"/admin/mes-rendez-vous/presence/{appointment_id}", data={"kind": "no_show"}),
            defaults,
        ]
    )

    assert results[0].status_code == 302 and results[1] in (0, 1), results
    session = db.session.get(Appointment, appointment_id)
    assert (session.attendance, session.attendance_marked_by_id) == ("no_show", session.tutor.user_id)


def test_the_student_sees_the_mark_and_the_tutors_note_on_the_session_and_the_dashboard(client, db, login, make, now):
    tutor = make.tutor()
    appointment = make.appointment(
        tutor=tutor, starts_at=now.replace(minute=0, second=0, microsecond=0) - timedelta(days=2)
    )
    attendance.mark(appointment, tutor.user, "no_show", "Je vous ai attendu 20 minutes.", now)
    db.session.commit()
    login(appointment.student)

    page = client.get(f"/tableau-de-bord/seances/{appointment.id}").get_data(as_text=True)
    dashboard = client.get("/tableau-de-bord").get_data(as_text=True)

    assert re.search(
        r'id="attendance">Absent<br><span class="muted">Note de votre tuteur : Je vous ai attendu 20', page
    )
    assert "Présence notée par" in page
    assert '<span class="status status-no_show">Absent</span>' in dashboard
