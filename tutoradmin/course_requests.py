"""A tutor's request to teach another course, and the office's answer (SPEC §10).

Approving assigns the course to the tutor (its sessions become bookable with them); refusing
keeps a note the tutor reads. Both are audited. No outbound event: the tutor reads the answer
in the back office, and an assignment made by hand in the office emits none either.
"""

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from . import audit
from .errors import DomainError
from .extensions import db
from .models import COURSE_REQUEST_STATUS_LABELS, Course, CourseRequest, CourseRequestStatus, TutorCourse

MESSAGE_MAX_LENGTH = 1000
NOTE_MAX_LENGTH = 1000
UNKNOWN_COURSE = "Ce cours n'existe pas ou n'est plus offert : choisissez un cours de la liste."
ALREADY_TAUGHT = "Vous enseignez déjà ce cours."
ALREADY_PENDING = "Vous avez déjà une demande en attente pour ce cours."
NOTE_REQUIRED = "Indiquez le motif du refus : le tuteur le lira."


class CourseRequestError(DomainError):
    """A request, or the answer to one, refused; the message says why."""


def _teaches(tutor_id, course_id):
    return db.session.scalar(
        select(exists().where(TutorCourse.tutor_id == tutor_id, TutorCourse.course_id == course_id))
    )


def _pending(tutor_id, course_id):
    return db.session.scalar(
        select(
            exists().where(
                CourseRequest.tutor_id == tutor_id,
                CourseRequest.course_id == course_id,
                CourseRequest.status == CourseRequestStatus.PENDING.value,
            )
        )
    )


def taught_courses(tutor_id):
    """The courses the tutor teaches, by title."""
    return db.session.scalars(
        select(Course)
        .join(TutorCourse, TutorCourse.course_id == Course.id)
        .where(TutorCourse.tutor_id == tutor_id)
        .order_by(Course.title, Course.id)
    ).all()


def requestable_courses(tutor_id):
    """Active courses the tutor does not teach and has no request waiting for, by title."""
    taught = select(TutorCourse.course_id).where(TutorCourse.tutor_id == tutor_id)
    waiting = select(CourseRequest.course_id).where(
        CourseRequest.tutor_id == tutor_id, CourseRequest.status == CourseRequestStatus.PENDING.value
    )
    return db.session.scalars(
        select(Course)
        .where(Course.active.is_(True), Course.id.not_in(taught), Course.id.not_in(waiting))
        .order_by(Course.title, Course.id)
    ).all()


def tutor_requests(tutor_id):
    """The tutor's requests, newest first, with their courses."""
    return db.session.scalars(
        select(CourseRequest)
        .where(CourseRequest.tutor_id == tutor_id)
        .options(selectinload(CourseRequest.course))
        .order_by(CourseRequest.created_at.desc(), CourseRequest.id.desc())
    ).all()


def _text(value, limit, label):
    text = (value or "").strip()
    if len(text) > limit:
        raise CourseRequestError(f"{label} dépasse {limit} caractères.")
    return text


def request_course(tutor, course_id, message, now):
    """The tutor asks to teach an active course they do not teach yet; returns the pending request."""
    message = _text(message, MESSAGE_MAX_LENGTH, "Le message")
    course = db.session.get(Course, course_id) if course_id else None
    if course is None or not course.active:
        raise CourseRequestError(UNKNOWN_COURSE)
    if _teaches(tutor.id, course.id):
        raise CourseRequestError(ALREADY_TAUGHT)
    if _pending(tutor.id, course.id):
        raise CourseRequestError(ALREADY_PENDING)
    request = CourseRequest(tutor_id=tutor.id, course_id=course.id, message=message, created_at=now)
    try:
        # The unique partial index keeps one waiting request per tutor and course, also under a double click.
        with db.session.begin_nested():
            db.session.add(request)
            db.session.flush()
    except IntegrityError as exc:
        raise CourseRequestError(ALREADY_PENDING) from exc
    return request


def _locked_pending(course_request):
    """The request under a row lock; refused when it has already been answered."""
    course_request = db.session.get(CourseRequest, course_request.id, with_for_update=True, populate_existing=True)
    if course_request.status != CourseRequestStatus.PENDING:
        label = COURSE_REQUEST_STATUS_LABELS.get(course_request.status, course_request.status).lower()
        raise CourseRequestError(f"Cette demande a déjà été traitée : elle est {label}.")
    return course_request


def _decide(course_request, actor, status, note, now):
    course_request.status = status.value
    course_request.decided_at = now
    course_request.decided_by_id = getattr(actor, "id", None)
    course_request.decision_note = note or None
    audit.record(
        actor,
        f"course_request.{status.value}",
        course_request,
        now,
        before={"status": CourseRequestStatus.PENDING.value},
        after={
            "status": status.value,
            "tutor_id": course_request.tutor_id,
            "course_id": course_request.course_id,
            "note": note,
        },
    )
    return course_request


def approve(course_request, actor, now, note=None):
    """Accept a waiting request: the tutor now teaches the course. The caller commits."""
    note = _text(note, NOTE_MAX_LENGTH, "La note")
    course_request = _locked_pending(course_request)
    # Assigned by hand meanwhile: the request is still answered, the assignment stays as it is.
    if not _teaches(course_request.tutor_id, course_request.course_id):
        db.session.add(
            TutorCourse(tutor_id=course_request.tutor_id, course_id=course_request.course_id, created_at=now)
        )
    return _decide(course_request, actor, CourseRequestStatus.APPROVED, note, now)


def refuse(course_request, actor, note, now):
    """Refuse a waiting request with a note the tutor reads. The caller commits."""
    note = _text(note, NOTE_MAX_LENGTH, "La note")
    if not note:
        raise CourseRequestError(NOTE_REQUIRED)
    course_request = _locked_pending(course_request)
    return _decide(course_request, actor, CourseRequestStatus.REFUSED, note, now)
