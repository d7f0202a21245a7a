"""Students rate their completed sessions: 1 to 5 and a comment, once, editable for 7 days."""

from datetime import timedelta

from sqlalchemy.exc import IntegrityError

from .errors import DomainError
from .extensions import db
from .formatting import local_datetime
from .models import AppointmentChange, AppointmentStatus, ChangeKind, Rating

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
