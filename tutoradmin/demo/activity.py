"""Demo activity around the sessions: meeting links, ratings, tickets, payouts and audit log."""

from collections import defaultdict
from datetime import time, timedelta

from sqlalchemy import select

from .. import earnings
from ..extensions import db
from ..localtime import LOCAL_TZ, add_months, local_instant, month_of
from ..models import (
    AppointmentChange,
    AppointmentStatus,
    AuditLog,
    ChangeKind,
    MeetingLink,
    PayoutStatus,
    Rating,
    Ticket,
    TicketMessage,
    TutorPayout,
)
from . import data
from .schedule import weighted

LETTERS = "abcdefghijklmnopqrstuvwxyz"


def _meeting_url(rng, provider):
    if provider == "zoom":
        return f"https://zoom.us/j/{rng.randint(10**9, 10**10 - 1)}"
    if provider == "teams":
        meeting = rng.randint(10**8, 10**9 - 1)
        return f"https://teams.microsoft.com/l/meetup-join/19%3ameeting_4as{meeting}"
    code = ["".join(rng.choice(LETTERS) for _ in range(n)) for n in (3, 4, 3)]
    return "https://meet.google.com/" + "-".join(code)


def add_meeting_link(rng, now, appointment, tutor, provider):
    """The tutor adds a link a little after the booking; returns whether one was added."""
    added = min(
        appointment.created_at + timedelta(hours=rng.uniform(1, 48)),
        appointment.starts_at - timedelta(hours=1),
        now - timedelta(minutes=5),
    )
    if added <= appointment.created_at:
        return False
    added = added.replace(microsecond=0)
    appointment.meeting_link = MeetingLink(
        provider=provider,
        url=_meeting_url(rng, provider),
        added_by_id=tutor.user_id,
        created_at=added,
        updated_at=added,
    )
    appointment.changes.append(
        AppointmentChange(
            kind=ChangeKind.MEETING_LINK.value,
            actor_id=tutor.user_id,
            created_at=added,
        )
    )
    return True


def add_rating(rng, now, appointment):
    """The student rates a completed session within three days; returns whether it happened yet."""
    rated_at = (appointment.ends_at + timedelta(hours=rng.uniform(1, 72))).replace(microsecond=0)
    if rated_at >= now:
        return False
    appointment.rating = Rating(
        student_id=appointment.student_id,
        score=weighted(rng, data.RATING_SCORES),
        comment=rng.choice(data.RATING_COMMENTS),
        created_at=rated_at,
    )
    return True


def build_activity(rng, now, *, orders, appointments, tutors, students, office, refunds, manual_credits):
    """Tickets, payout statements and audit entries, once orders have ids; counts by label."""
    tickets = _tickets(rng, now, orders, appointments, students, office)
    payouts = _payouts(now, appointments, tutors, office["admin"])
    db.session.add_all(tickets + payouts)
    db.session.flush()
    for ticket in tickets:
        # These conversations are old news to their students: every reply has been read.
        ticket.student_read_message_id = max(m.id for m in ticket.messages if not m.is_internal)
    logs = _audit_log(now, tutors, office, refunds, manual_credits, payouts)
    db.session.add_all(logs)
    return {
        "billets de soutien": len(tickets),
        "relevés de paie": len(payouts),
        "entrées du journal": len(logs),
    }


def _latest_before(rows, moment, when):
    earlier = [row for row in rows if when(row) < moment]
    return max(earlier, key=when) if earlier else None


def _tickets(rng, now, orders, appointments, students, office):
    """Support tickets: answered ones, internal notes, and some still waiting for a reply."""
    orders_of, appointments_of = defaultdict(list), defaultdict(list)
    for order in orders:
        orders_of[order.user.id].append(order)
    for appointment in appointments:
        appointments_of[appointment.student_id].append(appointment)
    tickets = []
    for spec in data.TICKETS:
        student = students[spec["student"]]
        opened = now - timedelta(days=spec["days_ago"], hours=rng.randint(1, 8))
        opened = opened.replace(microsecond=0)
        authors = {"student": student.id, "staff": office["staff"].id, "admin": office["admin"].id}
        ticket = Ticket(
            student_id=student.id,
            subject=spec["subject"],
            category=spec["category"],
            priority=spec["priority"],
            status=spec["status"],
            created_at=opened,
        )
        if spec["link"] == "appointment":
            appointment = _latest_before(appointments_of[student.id], opened, lambda a: a.starts_at)
            ticket.appointment_id = appointment.id if appointment else None
        elif spec["link"] == "order":
            order = _latest_before(orders_of[student.id], opened, lambda o: o.paid_at)
            ticket.order_id = order.id if order else None
        for who, body, internal, hours in spec["messages"]:
            ticket.messages.append(
                TicketMessage(
                    author_id=authors[who],
                    body=body,
                    is_internal=internal,
                    created_at=opened + timedelta(hours=hours),
                )
            )
        ticket.updated_at = ticket.messages[-1].created_at
        if any(who != "student" for who, *_ in spec["messages"]):
            ticket.assignee_id = office["staff"].id
        tickets.append(ticket)
    return tickets


def _payouts(now, appointments, tutors, admin):
    """Monthly statements of marked sessions (earnings by the attendance shares): paid, last month pending."""
    today = now.astimezone(LOCAL_TZ).date()
    this_month = today.replace(day=1)
    last_month = add_months(this_month, -1)
    marked = [a.starts_at for a in appointments if a.status == AppointmentStatus.COMPLETED]
    months = []
    start = month_of(min(marked)) if marked else this_month
    while start < this_month:
        months.append(start)
        start = add_months(start, 1)
    # The statements' own totals (earnings.py), so that a statement shown live and its snapshot agree.
    totals = {
        (tutor_id, first.year, first.month): figures
        for (tutor_id, first), figures in earnings.month_totals([t.id for t in tutors], months).items()
    }
    ids = [t.id for t in tutors]
    existing = set(
        db.session.execute(
            select(TutorPayout.tutor_id, TutorPayout.year, TutorPayout.month).where(TutorPayout.tutor_id.in_(ids))
        )
    )
    number = {t.id: i for i, t in enumerate(tutors, start=1)}
    payouts = []
    for (tutor_id, year, month), (minutes, cents) in sorted(totals.items()):
        if (tutor_id, year, month) in existing:
            continue
        statement_day = add_months(today.replace(year=year, month=month, day=1), 1)
        payout = TutorPayout(
            tutor_id=tutor_id,
            year=year,
            month=month,
            minutes=minutes,
            earnings_cents=cents,
            adjustments_cents=0,
            amount_cents=cents,
            status=PayoutStatus.PENDING.value,
            created_at=local_instant(statement_day, time(8)),
        )
        if (year, month) < (last_month.year, last_month.month):
            payout.status = PayoutStatus.PAID.value
            payout.confirmation_number = f"VIR-{year}{month:02d}-{number[tutor_id]:02d}"
            payout.paid_at = local_instant(statement_day + timedelta(days=4), time(10))
            payout.paid_by_id = admin.id
        payouts.append(payout)
    return payouts


def _audit_log(now, tutors, office, refunds, manual_credits, payouts):
    """A few sensitive actions: refunds, credits, the latest payouts, a rate and a role change."""
    staff, admin, accountant = office["staff"], office["admin"], office["accountant"]
    logs = [
        AuditLog(
            actor_id=staff.id,
            action="refund.created",
            target_type="orders",
            target_id=order.id,
            after={"amount_cents": amount, "reason": reason},
            created_at=processed_at,
        )
        for order, amount, reason, processed_at, _ in refunds
    ]
    logs += [
        AuditLog(
            actor_id=staff.id,
            action="credit.adjusted",
            target_type="users",
            target_id=student.id,
            after={"amount_cents": amount, "reason": reason},
            created_at=at,
        )
        for student, amount, reason, at in manual_credits
    ]
    paid = [p for p in payouts if p.status == PayoutStatus.PAID]
    latest = max(((p.year, p.month) for p in paid), default=None)
    logs += [
        AuditLog(
            actor_id=admin.id,
            action="payout.paid",
            target_type="tutor_payouts",
            target_id=p.id,
            created_at=p.paid_at,
            after={"confirmation_number": p.confirmation_number, "amount_cents": p.amount_cents},
        )
        for p in paid
        if (p.year, p.month) == latest
    ]
    tutor = tutors[1]
    logs.append(
        AuditLog(
            actor_id=admin.id,
            action="tutor.rate_changed",
            target_type="tutors",
            target_id=tutor.id,
            before={"hourly_rate_cents": tutor.hourly_rate_cents - 200},
            after={"hourly_rate_cents": tutor.hourly_rate_cents},
            created_at=now - timedelta(days=150),
        )
    )
    logs.append(
        AuditLog(
            actor_id=admin.id,
            action="user.role_changed",
            target_type="users",
            target_id=accountant.id,
            before={"role": "staff"},
            after={"role": "accountant"},
            created_at=accountant.created_at + timedelta(days=1),
        )
    )
    return logs
