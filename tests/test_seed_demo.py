"""`flask seed-demo`: realistic, consistent, idempotent demo data, refused in production."""

import html
from collections import defaultdict
from datetime import datetime, time, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import aliased

from tutoradmin import attendance, messaging, support
from tutoradmin.demo.conversations import conversation_moments
from tutoradmin.demo.data import (
    DEMO_CONVERSATION,
    DEMO_COURSE_REQUEST,
    DEMO_PASSWORD,
    DEMO_PDF_LINES,
    DEMO_TICKET,
    TUTORS,
    UNMARKED_DAYS,
    tutor_email,
)
from tutoradmin.demo.files import one_page_pdf
from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import (
    DEFAULT_POLICY,
    Appointment,
    AppointmentChange,
    Attachment,
    AttendancePolicy,
    AvailabilityException,
    Coupon,
    CouponRedemption,
    Course,
    CourseRequest,
    CreditEntry,
    Order,
    OutboxEvent,
    Payment,
    PayoutAdjustment,
    Refund,
    SessionMessage,
    SlotLock,
    Ticket,
    TicketMessage,
    TimeOff,
    Tutor,
    TutorCourse,
    TutorPayout,
    User,
    WeeklyRule,
    utcnow,
)

from .shopping import row_counts

FACTORS = {60: 1, 90: 1.5, 120: 2}


def seed(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result


def printed_accounts(output):
    """(role label, email, password) of each account line printed after the header."""
    lines = output.split("Comptes de démonstration")[1].splitlines()
    return [tuple(line.split(maxsplit=2)) for line in lines if "@" in line]


def all_rows(db, model):
    return db.session.scalars(select(model)).all()


def test_seed_demo_creates_the_catalogue_tutors_and_one_account_per_role(app, db):
    seed(app)
    courses = all_rows(db, Course)
    assert len(courses) >= 6
    assert all(c.slug and c.title and c.full_name and c.description for c in courses)
    assert {"Université Laval", "Cégep"} <= {c.institution for c in courses}
    assert {c.rate_cents for c in courses} == {4500, 5000, 5500}

    tutors = all_rows(db, Tutor)
    assert len(tutors) == 8
    assert len({t.priority for t in tutors}) == 8
    assert len({t.hourly_rate_cents for t in tutors}) > 4
    for tutor in tutors:
        assert tutor.user.role == "tutor"
        assert tutor.bio and tutor.contact_email and tutor.phone
        assert all(tutor.hourly_rate_cents < course.rate_cents for course in tutor.courses)
    for course in courses:
        assert 2 <= len(course.tutors) <= 5, course.slug

    roles = db.session.execute(select(User.role, func.count()).group_by(User.role)).all()
    counts = dict(roles)
    assert counts["admin"] == counts["staff"] == counts["accountant"] == 1
    assert counts["tutor"] == 8
    assert 26 <= counts["student"] - 1 <= 40


def test_tutors_have_weekly_hours_exceptions_and_time_off(app, db):
    seed(app)
    today = utcnow().astimezone(LOCAL_TZ).date()
    rules = all_rows(db, WeeklyRule)
    per_day = defaultdict(int)
    for rule in rules:
        per_day[(rule.tutor_id, rule.weekday)] += 1
    tutors = {rule.tutor_id for rule in rules}
    assert len(tutors) == 8
    assert all(sum(1 for t, _ in per_day if t == tutor) >= 3 for tutor in tutors)
    assert any(count == 2 for count in per_day.values())

    exceptions = all_rows(db, AvailabilityException)
    assert {e.kind for e in exceptions} == {"open", "closed"}
    assert all(today < e.date <= today + timedelta(days=60) for e in exceptions)
    assert any(e.kind == "closed" and e.start_time is None for e in exceptions)
    assert all_rows(db, TimeOff)


def test_seed_demo_builds_eighteen_months_of_orders_with_refunds_and_cancellations(app, db):
    seed(app)
    orders = all_rows(db, Order)
    months = {o.paid_at.astimezone(LOCAL_TZ).strftime("%Y-%m") for o in orders}
    assert len(months) >= 17
    assert all(o.paid_at < utcnow() for o in orders)

    for order in orders:
        payments = order.payments
        if order.total_cents == 0:
            assert payments == []
            continue
        [payment] = payments
        assert payment.provider == "simulated" and payment.status == "succeeded"
        assert payment.gateway_payment_id.startswith("pi_sim_demo_")
        assert payment.amount_cents == order.total_cents
        assert payment.succeeded_at == order.paid_at

    refunds = all_rows(db, Refund)
    assert len(refunds) >= 4
    assert {r.order.status for r in refunds} == {"refunded", "partially_refunded"}
    for refund in refunds:
        assert refund.status == "succeeded" and refund.gateway_refund_id.startswith("re_sim_demo_")
        assert refund.amount_cents == sum(i.amount_cents for i in refund.items)
        assert all(i.order_item.appointment.status == "cancelled" for i in refund.items)
        if refund.order.status == "refunded":
            assert refund.amount_cents == refund.order.total_cents

    refunded_items = {i.order_item_id for r in refunds for i in r.items}
    credits = {c.appointment_id: c for c in all_rows(db, CreditEntry) if c.appointment_id}
    cancelled = [a for a in all_rows(db, Appointment) if a.status == "cancelled"]
    cancelled_by_student_or_tutor = [a for a in cancelled if a.order_item_id not in refunded_items]
    assert len(cancelled_by_student_or_tutor) >= 5
    for appointment in cancelled_by_student_or_tutor:
        assert appointment.cancelled_at < appointment.starts_at
        assert appointment.cancellation_reason
        credit = credits[appointment.id]
        assert credit.kind == "credit"
        assert credit.amount_cents == appointment.order_item.paid_cents
        assert [c.kind for c in appointment.changes] == ["created", "cancelled"]


def test_order_amounts_follow_pricing_coupons_and_credits(app, db):
    seed(app)
    debits = defaultdict(int)
    for entry in all_rows(db, CreditEntry):
        if entry.kind == "debit":
            debits[entry.order_id] += entry.amount_cents
    orders = all_rows(db, Order)
    assert any(o.discount_cents for o in orders) and any(o.credit_cents for o in orders)
    for order in orders:
        items = order.items
        assert order.total_cents == order.subtotal_cents - order.discount_cents - order.credit_cents
        assert sum(i.price_cents for i in items) == order.subtotal_cents
        assert sum(i.discount_cents for i in items) == order.discount_cents
        assert sum(i.credit_cents for i in items) == order.credit_cents
        assert debits[order.id] == order.credit_cents
        for item in items:
            factor = FACTORS[item.duration_minutes]
            assert item.price_cents == item.course.rate_cents * factor
            assert item.tutor_earnings_cents == item.tutor.hourly_rate_cents * factor

    balances = defaultdict(int)
    for entry in sorted(all_rows(db, CreditEntry), key=lambda e: (e.created_at, e.kind)):
        balances[entry.user_id] += entry.signed_cents
        assert balances[entry.user_id] >= 0

    coupons = all_rows(db, Coupon)
    assert {c.kind for c in coupons} == {"percent", "fixed"}
    assert all(c.code == c.code.upper() for c in coupons)
    now = utcnow()
    assert any(c.ends_at and c.ends_at < now for c in coupons)
    assert any(c.starts_at and c.starts_at > now for c in coupons)
    redemptions = all_rows(db, CouponRedemption)
    for coupon in coupons:
        used = [r for r in redemptions if r.coupon_id == coupon.id]
        assert coupon.redemptions_count == len(used)
        assert coupon.max_redemptions is None or coupon.redemptions_count <= coupon.max_redemptions
    assert any(c.max_redemptions and c.redemptions_count for c in coupons)


def test_tutor_sessions_never_overlap_and_follow_the_grid_and_working_hours(app, db):
    seed(app)
    a, b = aliased(Appointment), aliased(Appointment)
    overlapping = db.session.scalar(
        select(func.count())
        .select_from(a)
        .join(b, (a.tutor_id == b.tutor_id) & (a.id < b.id) & (a.starts_at < b.ends_at) & (b.starts_at < a.ends_at))
        .where(a.status != "cancelled", b.status != "cancelled")
    )
    assert overlapping == 0

    locks = dict(
        db.session.execute(select(SlotLock.appointment_id, func.count()).group_by(SlotLock.appointment_id)).all()
    )
    rules = defaultdict(list)
    for rule in all_rows(db, WeeklyRule):
        rules[(rule.tutor_id, rule.weekday)].append((rule.start_time, rule.end_time))
    now = utcnow()
    today = now.astimezone(LOCAL_TZ).date()
    unmarked_since = datetime.combine(today - timedelta(days=UNMARKED_DAYS), time(0), LOCAL_TZ)
    appointments = all_rows(db, Appointment)
    assert {a.status for a in appointments} == {"completed", "scheduled", "cancelled"}
    for appointment in appointments:
        start = appointment.starts_at.astimezone(LOCAL_TZ)
        end = appointment.ends_at.astimezone(LOCAL_TZ)
        assert start.minute in (0, 30) and start.second == 0
        hours = rules[(appointment.tutor_id, start.weekday())]
        assert any(s <= start.time() and end.time() <= e for s, e in hours)
        if appointment.status == "cancelled":
            assert appointment.id not in locks
            continue
        assert locks[appointment.id] == appointment.duration_minutes // 30
        if appointment.status == "completed":
            # Completed by its attendance mark, given after the session (a correction comes later still).
            assert appointment.ends_at <= appointment.completed_at <= appointment.attendance_marked_at < now
            assert appointment.changes[0].kind == "created"
            assert appointment.changes[-1].kind == "attendance"
        else:
            # To come, under way, or over and waiting for its mark.
            assert appointment.ends_at > unmarked_since and appointment.attendance is None


def test_payouts_follow_marked_sessions_and_tickets_mix_replies_notes_and_waiting(app, db):
    seed(app)
    earned = defaultdict(int)
    for appointment in all_rows(db, Appointment):
        if appointment.status == "completed":
            local = appointment.starts_at.astimezone(LOCAL_TZ)
            # The tutor's share of the session under its mark, rounded half up to the cent.
            base = appointment.order_item.tutor_earnings_cents
            earned[(appointment.tutor_id, local.year, local.month)] += (
                base * appointment.tutor_share_percent + 50
            ) // 100
    payouts = all_rows(db, TutorPayout)
    # A mark corrected after its month was paid leaves the paid statement as it was: the difference waits
    # on the next statement.
    [correction] = all_rows(db, PayoutAdjustment)
    paid_month = next(p for p in payouts if p.id == correction.source_payout_id)
    assert paid_month.status == "paid" and correction.appointment_id is not None and correction.amount_cents < 0
    earned[(paid_month.tutor_id, paid_month.year, paid_month.month)] -= correction.amount_cents
    assert {p.status for p in payouts} == {"paid", "pending"}
    latest = max((p.year, p.month) for p in payouts)
    for payout in payouts:
        assert payout.earnings_cents == earned[(payout.tutor_id, payout.year, payout.month)]
        assert payout.amount_cents == payout.earnings_cents + payout.adjustments_cents
        # The tutor's statement waiting to be paid shows the adjustment it will deduct.
        expected = (
            correction.amount_cents if (payout.status, payout.tutor_id) == ("pending", paid_month.tutor_id) else 0
        )
        assert payout.adjustments_cents == expected
        assert (payout.status == "pending") == ((payout.year, payout.month) == latest)
        if payout.status == "paid":
            assert payout.confirmation_number and payout.paid_at

    tickets = all_rows(db, Ticket)
    staff_ids = set(db.session.scalars(select(User.id).where(User.role.in_(["staff", "admin"]))))

    def answered(ticket):
        return any(m.author_id in staff_ids and not m.is_internal for m in ticket.messages)

    assert any(answered(t) for t in tickets) and any(not answered(t) for t in tickets)
    assert db.session.scalar(select(func.count()).where(TicketMessage.is_internal.is_(True))) >= 1
    assert db.session.scalar(select(func.count()).select_from(AppointmentChange)) > 0


def test_past_sessions_carry_each_mark_and_the_demo_tutor_has_sessions_to_mark(app, db):
    seed(app)
    now = utcnow()
    tutor = db.session.scalar(select(Tutor).join(User).where(User.email == tutor_email(TUTORS[0])))
    staff = db.session.scalar(select(User).where(User.email == "personnel@4as.ca"))
    marked = [a for a in all_rows(db, Appointment) if a.attendance is not None]
    by_kind = defaultdict(list)
    for appointment in marked:
        by_kind[appointment.attendance].append(appointment)

    # Mostly présent; a few no-shows and late cancellations, each with a note, some marked by the office.
    assert set(by_kind) == {"present", "no_show", "late_cancel"}
    assert len(by_kind["present"]) > 10 * (len(by_kind["no_show"]) + len(by_kind["late_cancel"]))
    assert {a.attendance for a in marked if a.tutor_id == tutor.id} == {"present", "no_show", "late_cancel"}
    absences = by_kind["no_show"] + by_kind["late_cancel"]
    assert all(a.attendance_note and a.rating is None for a in absences)
    assert {a.attendance_marked_by_id for a in absences} > {staff.id}
    # Présent by the tutor or by default (nobody), with the shares of the default policy.
    assert None in {a.attendance_marked_by_id for a in by_kind["present"]}
    [policy] = all_rows(db, AttendancePolicy)
    assert {name: getattr(policy, name) for name in DEFAULT_POLICY} == DEFAULT_POLICY
    assert {(a.tutor_share_percent, a.student_credit_percent) for a in by_kind["no_show"]} == {(100, 0)}
    assert {(a.tutor_share_percent, a.student_credit_percent) for a in by_kind["late_cancel"]} == {(50, 50)}

    # A late cancellation gives back half of what was paid, named after the session; a no-show gives nothing.
    credits = defaultdict(list)
    for entry in all_rows(db, CreditEntry):
        credits[entry.appointment_id].append(entry)
    for appointment in by_kind["late_cancel"]:
        [credit] = credits[appointment.id]
        assert (credit.kind, credit.amount_cents) == ("credit", (appointment.order_item.paid_cents * 50 + 50) // 100)
        assert "Annulation tardive — " in credit.reason and credit.created_at > appointment.ends_at
    assert not any(credits[a.id] for a in by_kind["no_show"] + by_kind["present"])
    events = db.session.scalars(select(OutboxEvent).where(OutboxEvent.event_type == "booking.attendance")).all()
    assert sorted(e.payload["session"]["appointment_id"] for e in events) == sorted(a.id for a in absences)

    # Sessions of the last days wait for their mark: the demo tutor has some on her home.
    waiting = attendance.awaiting_mark(tutor.id, now)
    assert waiting and all(a.ends_at <= now and a.status == "scheduled" for a in waiting)
    assert all(now - a.ends_at < timedelta(days=UNMARKED_DAYS + 1) for a in waiting)

    # And she asked to teach one more course.
    [request] = all_rows(db, CourseRequest)
    assert (request.tutor_id, request.course.slug, request.status) == (
        tutor.id,
        DEMO_COURSE_REQUEST["course"],
        "pending",
    )
    assert request.course not in tutor.courses


def test_running_seed_demo_twice_changes_no_table_and_prints_the_accounts_both_times(app, db):
    first = seed(app)
    before = row_counts(db)
    second = seed(app)
    assert row_counts(db) == before
    assert "rien à ajouter" in second.output
    assert printed_accounts(first.output) == printed_accounts(second.output)
    roles = [role for role, _, _ in printed_accounts(second.output)]
    assert roles == ["Administrateur", "Personnel", "Comptable", "Tuteur", "Étudiant"]
    assert before["orders"] > 0 and before["slot_locks"] > 0 and before["audit_log"] > 0
    checked = app.test_cli_runner().invoke(args=["check-integrity"])
    assert checked.exit_code == 0, checked.output


def test_demo_accounts_can_log_in_with_the_printed_password(app, db):
    result = seed(app)
    accounts = printed_accounts(result.output)
    assert len(accounts) == 5
    for _role, email, password in accounts:
        assert password == DEMO_PASSWORD
        response = app.test_client().post("/connexion", data={"email": email, "password": password})
        assert response.status_code == 302, email
    tutor_email = accounts[3][1]
    assert db.session.scalar(select(Tutor).join(User).where(User.email == tutor_email)) is not None


def test_seed_demo_adds_to_a_database_with_other_data_and_keeps_existing_accounts(app, db, make):
    admin = make.user(role="admin", email="admin@4as.ca", password="autre-secret-123")
    other_course = make.course(slug="cours-existant", title="Cours existant")
    make.tutor(courses=[other_course], priority=10)
    db.session.commit()

    result = seed(app)

    assert "admin@4as.ca" in result.output and "mot de passe inchangé" in result.output
    db.session.refresh(admin)
    assert admin.check_password("autre-secret-123")
    assert db.session.get(Course, other_course.id).title == "Cours existant"
    assert db.session.scalar(select(func.count()).select_from(Tutor)) == 9
    assert (
        db.session.scalar(select(func.count()).select_from(TutorCourse).where(TutorCourse.course_id == other_course.id))
        == 1
    )
    assert db.session.scalar(select(func.count()).select_from(Order)) > 300


@pytest.mark.app_config(PRODUCTION=True)
def test_seed_demo_refuses_to_run_in_production(app, db):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code != 0
    assert "production" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    assert db.session.scalar(select(func.count()).select_from(Payment)) == 0


def test_demo_orders_have_receipt_numbers_without_gaps_in_the_order_they_were_paid(app, db):
    seed(app)
    orders = sorted(all_rows(db, Order), key=lambda o: (o.paid_at, o.id))

    numbers = {}
    for order in orders:
        year = order.paid_at.astimezone(LOCAL_TZ).year
        numbers.setdefault(year, []).append(order.receipt_number)
    for year, given in numbers.items():
        assert given == [f"{year}-{n:05d}" for n in range(1, len(given) + 1)]


def test_the_demo_student_has_a_reply_to_read_and_a_conversation_with_the_demo_tutor(app, db):
    seed(app)
    now = utcnow()
    student = db.session.scalar(select(User).where(User.email == "etudiant@4as.ca"))
    tutor = db.session.scalar(select(User).where(User.email == tutor_email(TUTORS[0])))
    staff = db.session.scalar(select(User).where(User.email == "personnel@4as.ca"))

    # The ticket: a payment question, an internal note and a public reply the student has not read yet.
    ticket = db.session.scalar(
        select(Ticket).where(Ticket.student_id == student.id, Ticket.subject == DEMO_TICKET["subject"])
    )
    assert (ticket.category, ticket.status, db.session.get(Order, ticket.order_id).user_id) == (
        "paiement",
        "en_cours",
        student.id,
    )
    assert now - timedelta(days=4) < ticket.created_at < now - timedelta(days=2)
    [note] = [m for m in ticket.messages if m.is_internal]
    [answer] = [m for m in ticket.messages if m.author_id == staff.id and not m.is_internal]
    assert [m.id for m in support.public_messages(ticket)] == [ticket.messages[0].id, answer.id]
    assert support.unread_ticket_count(student.id) == 1

    # The conversation: both ways, about one coming session with the demo tutor, a PDF from the student.
    messages = db.session.scalars(select(SessionMessage).order_by(SessionMessage.id)).all()
    assert [m.body for m in messages] == [body for _, body, *_ in DEMO_CONVERSATION]
    appointment = messages[0].appointment
    assert {m.appointment_id for m in messages} == {appointment.id}
    assert (appointment.student_id, appointment.tutor.user_id, appointment.status) == (
        student.id,
        tutor.id,
        "scheduled",
    )
    assert [m.author_id for m in messages] == [student.id, tutor.id, student.id, tutor.id]
    assert all(appointment.created_at < m.created_at < now for m in messages)
    [pdf] = db.session.scalars(select(Attachment)).all()
    assert (pdf.session_message_id, pdf.content_type, pdf.filename) == (
        messages[0].id,
        "application/pdf",
        DEMO_CONVERSATION[0][2],
    )
    assert (messaging.unread_total(student), messaging.unread_total(tutor)) == (1, 0)
    events = db.session.scalars(
        select(OutboxEvent.event_type).where(OutboxEvent.event_type != "booking.attendance").order_by(OutboxEvent.id)
    ).all()
    assert events == ["ticket.created", "ticket.replied"] + ["message.sent"] * 4

    # What the student sees: the reply and not the note, the tutor's answer and the file as stored.
    client = app.test_client()
    client.post("/connexion", data={"email": student.email, "password": DEMO_PASSWORD})
    ticket_page = html.unescape(client.get(f"/tableau-de-bord/billets/{ticket.id}").get_data(as_text=True))
    assert answer.body[:40] in ticket_page and note.body[:40] not in ticket_page
    conversation = client.get(f"/tableau-de-bord/seances/{appointment.id}/messages").get_data(as_text=True)
    assert f"/pieces-jointes/{pdf.id}" in conversation
    download = client.get(f"/pieces-jointes/{pdf.id}")
    assert download.status_code == 200 and download.data == one_page_pdf(DEMO_PDF_LINES)


@pytest.mark.parametrize("booked_hours_ago", [2, 24 * 10])
def test_demo_messages_are_written_after_the_booking_and_before_now(booked_hours_ago):
    now = utcnow()
    appointment = SimpleNamespace(created_at=now - timedelta(hours=booked_hours_ago), ends_at=now + timedelta(days=2))
    moments = conversation_moments(appointment, now)
    assert appointment.created_at < moments[0] and moments[-1] < now
    assert moments == sorted(set(moments)) and len(moments) == len(DEMO_CONVERSATION)
    if booked_hours_ago > 24 * 4:
        # Booked long enough ago: the planned evenings and lunch hours of the last three days.
        local = [m.astimezone(LOCAL_TZ) for m in moments]
        assert [f"{m:%H:%M}" for m in local] == [clock for *_, (_, clock) in DEMO_CONVERSATION]
