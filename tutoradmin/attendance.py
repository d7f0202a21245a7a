"""Attendance marks and the policy that turns them into the student's credit and the tutor's pay (SPEC §10).

The rules:

- After a session ends, its tutor or the office marks it présent, absent (no-show) or annulation
  tardive, with an optional note to the student. A cancelled session is not marked. A session
  left unmarked `ATTENDANCE_GRACE_HOURS` after its end is marked présent by default
  (`flask complete-appointments`), by no one, without telling the student.
- The policy in force (the latest `AttendancePolicy` row) gives each mark its shares: the part
  of the tutor's earnings paid and the part of what the student paid given back as credit.
  A mark copies them onto its session: a policy change applies to sessions marked afterwards.
- A tutor marks and changes the marks of their own sessions until their month is paid, except
  a mark the office made. The office marks and corrects any session at any time; once the
  tutor's month is paid, the difference in the tutor's earnings becomes an adjustment on the
  next statement paid.
- The student's credit follows the mark: a correction credits or takes back the difference,
  and is refused when the student has already spent the credit it would take back.
"""

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import joinedload

from . import audit, credits, earnings, events, outbox, payouts
from .appointments import paid_for
from .errors import DomainError
from .extensions import db
from .formatting import local_datetime, money
from .localtime import month_of
from .models import (
    ATTENDANCE_LABELS,
    DEFAULT_POLICY,
    Appointment,
    AppointmentChange,
    AppointmentStatus,
    Attendance,
    AttendancePolicy,
    ChangeKind,
    CreditKind,
    OutboxEventType,
    PayoutAdjustment,
    PayoutStatus,
    Role,
    User,
)

NOTE_MAX_LENGTH = 1000
OFFICE_ROLES = (Role.ADMIN, Role.STAFF)
DEFAULT_MARK_REASON = "Présent (noté par défaut)"

UNKNOWN_KIND = "Choisissez présent, absent ou annulation tardive."
NOT_YOURS = "Cette séance n'est pas la vôtre."
NOT_ALLOWED = "Vous ne pouvez pas noter la présence à une séance."
CANCELLED = "Une séance annulée ne peut pas être notée."
NOTE_TOO_LONG = f"La note à l'étudiant ne peut dépasser {NOTE_MAX_LENGTH} caractères."
UNCHANGED = "La présence est déjà notée ainsi : rien n'a changé."
MONTH_PAID = (
    "Le mois de cette séance vous est déjà payé : la présence ne peut plus être modifiée. "
    "Communiquez avec 4AS pour une correction."
)
OFFICE_MARK = "L'équipe de 4AS a corrigé cette présence : communiquez avec elle pour la modifier."
ADMIN_ONLY = "Seul un administrateur peut modifier la politique de présence."
POLICY_UNCHANGED = "Aucun changement : ces valeurs sont déjà celles de la politique en vigueur."

#: The policy's figures, how the office names them, and their bounds (the database checks the same).
POLICY_FIELDS = {
    "late_cancel_window_hours": ("Délai d'annulation tardive (heures)", 0, 168),
    "late_cancel_credit_percent": ("Crédit à l'étudiant pour une annulation tardive (%)", 0, 100),
    "no_show_credit_percent": ("Crédit à l'étudiant pour une absence (%)", 0, 100),
    "late_cancel_tutor_percent": ("Part payée au tuteur pour une annulation tardive (%)", 0, 100),
    "no_show_tutor_percent": ("Part payée au tuteur pour une absence (%)", 0, 100),
}


class AttendanceError(DomainError):
    """A mark or a policy change refused; the message is for the person who asked."""


# --- the policy ----------------------------------------------------------------------------


def current_policy():
    """The policy in force: the latest row (the defaults when the table is empty)."""
    policy = db.session.scalar(select(AttendancePolicy).order_by(AttendancePolicy.id.desc()).limit(1))
    return policy if policy is not None else AttendancePolicy(**DEFAULT_POLICY)


def policy_history():
    """(policy, author or None) for every version of the policy, the one in force first."""
    return db.session.execute(
        select(AttendancePolicy, User)
        .outerjoin(User, User.id == AttendancePolicy.created_by_id)
        .order_by(AttendancePolicy.id.desc())
    ).all()


def shares(kind, policy):
    """(tutor percent, credit percent) of a mark under `policy`: the one home of the policy's figures."""
    kind = Attendance(str(kind))
    if kind == Attendance.NO_SHOW:
        return policy.no_show_tutor_percent, policy.no_show_credit_percent
    if kind == Attendance.LATE_CANCEL:
        return policy.late_cancel_tutor_percent, policy.late_cancel_credit_percent
    return 100, 0


def policy_values(policy):
    return {name: getattr(policy, name) for name in POLICY_FIELDS}


def _whole_number(name, value):
    label, low, high = POLICY_FIELDS[name]
    text = str(value if value is not None else "").strip()
    if isinstance(value, bool) or not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise AttendanceError(f"{label} : entrez un nombre entier entre {low} et {high}.")
    return int(text)


def change_policy(actor, values, now):
    """Write a new version of the policy (administrators), audited; the caller commits."""
    if getattr(actor, "role", None) != Role.ADMIN:
        raise AttendanceError(ADMIN_ONLY)
    new = {name: _whole_number(name, values.get(name)) for name in POLICY_FIELDS}
    before = policy_values(current_policy())
    if new == before:
        raise AttendanceError(POLICY_UNCHANGED)
    policy = AttendancePolicy(**new, created_by_id=actor.id, created_at=now)
    db.session.add(policy)
    db.session.flush()
    audit.record(actor, "attendance_policy.changed", policy, now, before=before, after=new)
    return policy


# --- money ---------------------------------------------------------------------------------


def credit_cents(appointment, credit_percent):
    """The student's credit for a mark: what they paid for the session × percent, rounded half up to the cent."""
    return (paid_for(appointment) * credit_percent + 50) // 100


def _tutor_earnings(appointment):
    return db.session.scalar(earnings.sessions(earnings.session_earnings()).where(Appointment.id == appointment.id))


def _paid_payout(appointment):
    """The tutor's statement covering the session's month, when it is paid."""
    payout = payouts.find_payout(appointment.tutor_id, month_of(appointment.starts_at))
    return payout if payout is not None and payout.status == PayoutStatus.PAID else None


def month_paid(appointment):
    """Whether the tutor's month of this session is paid (a change then goes on the next statement)."""
    return _paid_payout(appointment) is not None


# --- marking -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Marked:
    """What a mark did: the session, the student's credit change (cents, negative when taken back), any adjustment."""

    appointment: Appointment
    credit_change_cents: int
    adjustment: PayoutAdjustment | None


def kind_of(value):
    """The mark chosen, or AttendanceError."""
    try:
        return Attendance(str(value))
    except ValueError:
        raise AttendanceError(UNKNOWN_KIND) from None


def is_office(actor):
    return getattr(actor, "role", None) in OFFICE_ROLES


def check_can_mark(appointment, actor, now):
    """Refuse (AttendanceError) a mark `actor` may not make on this session now."""
    if is_office(actor):
        pass
    elif getattr(actor, "role", None) == Role.TUTOR and actor.tutor_profile is not None:
        if appointment.tutor_id != actor.tutor_profile.id:
            raise AttendanceError(NOT_YOURS)
    else:
        raise AttendanceError(NOT_ALLOWED)
    if appointment.status == AppointmentStatus.CANCELLED:
        raise AttendanceError(CANCELLED)
    if now < appointment.ends_at:
        raise AttendanceError(
            f"La présence se note après la fin de la séance, à partir du {local_datetime(appointment.ends_at)}."
        )
    if not is_office(actor):
        if month_paid(appointment):
            raise AttendanceError(MONTH_PAID)
        marker = appointment.attendance_marked_by_id
        if marker is not None and marker != actor.id and db.session.get(User, marker).role in OFFICE_ROLES:
            raise AttendanceError(OFFICE_MARK)


def mark(appointment, actor, kind, note, now):
    """Mark or correct a session's attendance, with its credit, pay adjustment, history and event; caller commits."""
    kind = kind_of(kind)
    note = (note or "").strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise AttendanceError(NOTE_TOO_LONG)
    # Two marks at once (a double submit, the tutor and the office) take turns on the session's row.
    appointment = db.session.get(Appointment, appointment.id, with_for_update=True, populate_existing=True)
    check_can_mark(appointment, actor, now)
    tutor_percent, credit_percent = shares(kind, current_policy())
    previous = appointment.attendance
    marked_as = (previous, appointment.attendance_note or "")
    if (*marked_as, appointment.tutor_share_percent, appointment.student_credit_percent) == (
        kind.value,
        note,
        tutor_percent,
        credit_percent,
    ):
        raise AttendanceError(UNCHANGED)
    before = _snapshot(appointment)
    payout = _paid_payout(appointment)
    # An unmarked session was on no statement: all its earnings are the difference.
    earned_before = _tutor_earnings(appointment) if payout is not None and previous is not None else 0

    if appointment.status != AppointmentStatus.COMPLETED:
        appointment.completed_at = now
    appointment.status = AppointmentStatus.COMPLETED.value
    appointment.attendance, appointment.attendance_note = kind.value, note or None
    appointment.attendance_marked_at, appointment.attendance_marked_by_id = now, actor.id
    appointment.tutor_share_percent, appointment.student_credit_percent = tutor_percent, credit_percent
    db.session.flush()

    label = ATTENDANCE_LABELS[kind]
    corrected = previous is not None
    credit_change = _settle_credit(appointment, label, credit_percent, corrected, actor, now)
    adjustment = None
    if payout is not None:
        adjustment = _adjust_paid_month(appointment, payout, earned_before, previous, label, now)
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            actor_id=actor.id,
            kind=ChangeKind.ATTENDANCE.value,
            reason=f"{label} (correction)" if corrected else label,
            created_at=now,
        )
    )
    if corrected and is_office(actor):
        after = {**_snapshot(appointment), "credit_change_cents": credit_change}
        if adjustment is not None:
            after["adjustment_cents"] = adjustment.amount_cents
        audit.record(actor, "attendance.corrected", appointment, now, before=before, after=after)
    _announce(appointment, kind, note, now)
    return Marked(appointment, credit_change, adjustment)


def _snapshot(appointment):
    return {
        "attendance": appointment.attendance,
        "note": appointment.attendance_note,
        "tutor_share_percent": appointment.tutor_share_percent,
        "student_credit_percent": appointment.student_credit_percent,
    }


def _settle_credit(appointment, label, credit_percent, corrected, actor, now):
    """Bring the session's credit to what the new mark gives; returns the change in cents."""
    change = credit_cents(appointment, credit_percent) - credits.given_for_session(appointment)
    if not change:
        return 0
    when = local_datetime(appointment.starts_at)
    if not corrected:
        reason = f"{label} — {credit_percent} % de la séance du {when}"
    else:
        moved = "porté" if change > 0 else "ramené"
        reason = f"Présence corrigée : {label} — crédit de la séance du {when} {moved} à {credit_percent} %"
    kind = CreditKind.CREDIT
    if change < 0:
        # Taken back only from what the student can still spend (the database refuses a negative balance).
        credits.lock_ledger(appointment.student_id)
        available = credits.available_cents(appointment.student_id)
        if -change > available:
            raise AttendanceError(
                f"L'étudiant a déjà utilisé le crédit de cette séance : la correction reprendrait "
                f"{money(-change)}, mais son crédit disponible n'est que de {money(max(available, 0))}. "
                "La présence n'est pas modifiée."
            )
        kind = CreditKind.DEBIT
    credits.add_entry(
        appointment.student_id,
        kind,
        abs(change),
        reason,
        now,
        appointment_id=appointment.id,
        created_by_id=actor.id,
    )
    return change


def _adjust_paid_month(appointment, payout, earned_before, previous, label, now):
    """The tutor's earnings changed on a paid month: the difference goes on the next statement paid."""
    difference = _tutor_earnings(appointment) - earned_before
    if not difference:
        return None
    adjustment = PayoutAdjustment(
        tutor_id=appointment.tutor_id,
        amount_cents=difference,
        reason=(
            f"Présence corrigée : séance du {local_datetime(appointment.starts_at)}, "
            f"{ATTENDANCE_LABELS.get(previous, 'non notée')} → {label}"
        ),
        appointment_id=appointment.id,
        source_payout_id=payout.id,
        created_at=now,
    )
    db.session.add(adjustment)
    db.session.flush()
    return adjustment


def _announce(appointment, kind, note, now):
    """Queue `booking.attendance` for the student, once per mark (a correction is a new mark)."""
    count = db.session.scalar(
        select(func.count())
        .select_from(AppointmentChange)
        .where(
            AppointmentChange.appointment_id == appointment.id,
            AppointmentChange.kind == ChangeKind.ATTENDANCE.value,
        )
    )
    outbox.emit(
        OutboxEventType.BOOKING_ATTENDANCE,
        events.booking_attendance(appointment, kind, note),
        f"booking.attendance:appointment:{appointment.id}:{count}",
        now,
        ordering_key=f"student:{appointment.student_id}",
    )


# --- sessions nobody marked ----------------------------------------------------------------


def default_mark_at(appointment, grace_hours):
    """When an unmarked session is marked présent by default."""
    return appointment.ends_at + timedelta(hours=grace_hours)


def mark_defaults(now, grace_hours):
    """Mark présent every scheduled session ended at least `grace_hours` ago; returns how many.

    One UPDATE: a session marked by hand meanwhile is no longer scheduled and is left alone.
    No event: the student is told only of marks someone made.
    """
    tutor_percent, credit_percent = shares(Attendance.PRESENT, current_policy())
    marked = db.session.scalars(
        update(Appointment)
        .where(
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            Appointment.ends_at <= now - timedelta(hours=grace_hours),
        )
        .values(
            status=AppointmentStatus.COMPLETED.value,
            completed_at=now,
            attendance=Attendance.PRESENT.value,
            attendance_marked_at=now,
            attendance_marked_by_id=None,
            tutor_share_percent=tutor_percent,
            student_credit_percent=credit_percent,
        )
        .returning(Appointment.id)
    ).all()
    if marked:
        db.session.execute(
            insert(AppointmentChange),
            [
                {
                    "appointment_id": id_,
                    "kind": ChangeKind.ATTENDANCE.value,
                    "reason": DEFAULT_MARK_REASON,
                    "created_at": now,
                }
                for id_ in marked
            ],
        )
    return len(marked)


def awaiting_mark(tutor_id, now):
    """The tutor's sessions that have ended and are not marked yet, oldest first."""
    return db.session.scalars(
        select(Appointment)
        .options(joinedload(Appointment.course), joinedload(Appointment.student))
        .where(
            Appointment.tutor_id == tutor_id,
            Appointment.status == AppointmentStatus.SCHEDULED.value,
            Appointment.ends_at <= now,
        )
        .order_by(Appointment.starts_at, Appointment.id)
    ).all()
