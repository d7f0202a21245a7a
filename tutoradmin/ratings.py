"""Students rate their completed sessions: 1 to 5 and a comment, once, editable for 7 days."""

from dataclasses import dataclass
from datetime import timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import aliased

from . import audit
from .errors import DomainError
from .extensions import db
from .formatting import local_datetime
from .models import Appointment, AppointmentChange, AppointmentStatus, ChangeKind, Course, Rating, Role, Tutor, User

EDIT_WINDOW = timedelta(days=7)
MAX_COMMENT_LENGTH = 2000
SCORES = range(1, 6)

BAD_SCORE = "Choisissez une note de 1 à 5 étoiles."
COMMENT_TOO_LONG = f"Le commentaire ne peut dépasser {MAX_COMMENT_LENGTH} caractères."
NOT_COMPLETED = "Seule une séance terminée peut être évaluée."
ALREADY_RATED = "Cette séance a déjà été évaluée."


class RatingError(DomainError):
    """A rating refused, with the reason."""


def can_rate(appointment):
    """Whether the session is one its student may rate (it took place)."""
    return appointment.status == AppointmentStatus.COMPLETED


def editable_until(rating):
    """The last moment the student may change the rating."""
    return rating.created_at + EDIT_WINDOW


def is_editable(rating, now):
    return now <= editable_until(rating)


def parse_score(value):
    """A score from form text, or RatingError."""
    text = (value or "").strip() if isinstance(value, str) else value
    try:
        score = int(text)
    except (TypeError, ValueError) as exc:
        raise RatingError(BAD_SCORE) from exc
    if score not in SCORES:
        raise RatingError(BAD_SCORE)
    return score


def rate(appointment, student, score, comment, now):
    """Rate the student's completed session, or change the rating within its window; the caller commits."""
    if appointment.student_id != student.id:
        # The pages answer 404 before this; the rule still holds for any other caller.
        raise RatingError(NOT_COMPLETED)
    score = parse_score(score)
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT_LENGTH:
        raise RatingError(COMMENT_TOO_LONG)
    if not can_rate(appointment):
        raise RatingError(NOT_COMPLETED)
    rating = appointment.rating
    if rating is not None:
        if not is_editable(rating, now):
            raise RatingError(
                f"Cette évaluation ne peut plus être modifiée : elle l'était jusqu'au "
                f"{local_datetime(editable_until(rating))}."
            )
        rating.score, rating.comment, rating.updated_at = score, comment, now
        _record(appointment, student, score, now)
        return rating
    rating = Rating(appointment_id=appointment.id, student_id=student.id, score=score, comment=comment, created_at=now)
    try:
        # Two submissions at once: the unique appointment id lets one rating in.
        with db.session.begin_nested():
            db.session.add(rating)
    except IntegrityError as exc:
        raise RatingError(ALREADY_RATED) from exc
    db.session.expire(appointment, ["rating"])
    _record(appointment, student, score, now)
    return rating


def _record(appointment, student, score, now):
    """The rating, given or changed, in the session's modification history."""
    db.session.add(
        AppointmentChange(
            appointment_id=appointment.id,
            actor_id=student.id,
            kind=ChangeKind.RATED.value,
            reason=f"{score}/5",
            created_at=now,
        )
    )


# --- moderation by the office -------------------------------------------------------------------

HIDE_REASON_MAX_LENGTH = 1000
MODERATORS = (Role.ADMIN, Role.STAFF)


def comment_shown():
    """SQL condition: the rating's comment may be shown outside the office (not hidden)."""
    return Rating.comment_hidden_at.is_(None)


def hide_comment(rating, actor, reason, now):
    """The office hides an abusive comment with a reason (audited); the score still counts. The caller commits."""
    if actor.role not in MODERATORS:
        raise RatingError("Seule l'équipe de 4AS peut masquer un commentaire.")
    reason = (reason or "").strip()
    if not reason:
        raise RatingError("Indiquez pourquoi ce commentaire est masqué.")
    if len(reason) > HIDE_REASON_MAX_LENGTH:
        raise RatingError(f"Le motif ne peut dépasser {HIDE_REASON_MAX_LENGTH} caractères.")
    if not rating.comment:
        raise RatingError("Cette évaluation n'a pas de commentaire à masquer.")
    if rating.comment_hidden_at is not None:
        raise RatingError("Ce commentaire est déjà masqué.")
    rating.comment_hidden_at, rating.comment_hidden_by_id, rating.comment_hidden_reason = now, actor.id, reason
    audit.record(
        actor, "rating.comment_hidden", rating, now, after={"appointment_id": rating.appointment_id, "reason": reason}
    )
    return rating


def show_comment(rating, actor, now, note=""):
    """The office shows a hidden comment again, with an optional note (audited). The caller commits."""
    if actor.role not in MODERATORS:
        raise RatingError("Seule l'équipe de 4AS peut réafficher un commentaire.")
    if rating.comment_hidden_at is None:
        raise RatingError("Ce commentaire n'est pas masqué.")
    note = (note or "").strip()
    if len(note) > HIDE_REASON_MAX_LENGTH:
        raise RatingError(f"La note ne peut dépasser {HIDE_REASON_MAX_LENGTH} caractères.")
    before = {"appointment_id": rating.appointment_id, "reason": rating.comment_hidden_reason}
    rating.comment_hidden_at = rating.comment_hidden_by_id = rating.comment_hidden_reason = None
    audit.record(actor, "rating.comment_shown", rating, now, before=before, after={"note": note} if note else None)
    return rating


# --- the office's list --------------------------------------------------------------------------


def average(total, count):
    """An average score to one decimal (4.3), or None without ratings."""
    return (Decimal(total) / count).quantize(Decimal("0.1"), ROUND_HALF_UP) if count else None


@dataclass(frozen=True)
class TutorAverage:
    """A tutor's ratings: how many, their average (hidden comments' scores included), comments hidden."""

    tutor_id: int
    name: str
    count: int
    average: Decimal | None
    hidden: int


def office_list(tutor_id=None, score=None):
    """SELECT of (Rating, session start, course title, tutor name, student, who hid the comment), newest first."""
    moderator = aliased(User)
    query = (
        select(Rating, Appointment.starts_at, Course.title, Tutor.display_name, User, moderator)
        .join(Appointment, Appointment.id == Rating.appointment_id)
        .join(Course, Course.id == Appointment.course_id)
        .join(Tutor, Tutor.id == Appointment.tutor_id)
        .join(User, User.id == Rating.student_id)
        .outerjoin(moderator, moderator.id == Rating.comment_hidden_by_id)
        .order_by(Rating.created_at.desc(), Rating.id.desc())
    )
    if tutor_id is not None:
        query = query.where(Appointment.tutor_id == tutor_id)
    if score is not None:
        query = query.where(Rating.score == score)
    return query


def tutor_averages():
    """Every rated tutor's TutorAverage, by name: one statement."""
    rows = db.session.execute(
        select(
            Tutor.id,
            Tutor.display_name,
            func.count(Rating.id),
            func.sum(Rating.score),
            func.count(Rating.comment_hidden_at),
        )
        .join(Appointment, Appointment.tutor_id == Tutor.id)
        .join(Rating, Rating.appointment_id == Appointment.id)
        .group_by(Tutor.id, Tutor.display_name)
        .order_by(Tutor.display_name, Tutor.id)
    ).all()
    return [TutorAverage(i, name, count, average(total, count), hidden) for i, name, count, total, hidden in rows]
