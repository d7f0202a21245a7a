"""Course list, course page and the booking page (server-rendered, enhanced by JavaScript)."""

from flask import abort, current_app, render_template, request, session, url_for
from sqlalchemy import select

from ..booking_cache import calendar_cache, kept_offer, listed_courses, visitor_calendars
from ..extensions import db
from ..localtime import add_months
from ..models import SESSION_DURATIONS, Course, utcnow
from ..offers import active_course, month_weeks
from ..params import parse_date, parse_duration, parse_month, parse_optional_id
from ..pricing import session_price
from ..slots import BookingRules
from .blueprint import bp
from .labels import clock_label, price_label
from .read_only import reads_only

DURATION_LABELS = {60: "1 h", 90: "1 h 30", 120: "2 h"}


def active_courses():
    return db.session.scalars(select(Course).where(Course.active.is_(True)).order_by(Course.title)).all()


def _course_or_404(slug):
    course = active_course(slug)
    if course is None:
        abort(404)
    return course


def _offer_or_404(slug, now):
    offer = kept_offer(calendar_cache(current_app), slug, now)
    if offer is None:
        abort(404)
    return offer


@bp.route("/cours")
@reads_only
def courses():
    courses = listed_courses(calendar_cache(current_app), utcnow(), active_courses)
    return render_template("public/courses.html", courses=courses)


@bp.route("/cours/<slug>")
@reads_only
def course(slug):
    course = _course_or_404(slug)
    prices = [(DURATION_LABELS[d], session_price(course, d)) for d in SESSION_DURATIONS]
    return render_template("public/course.html", course=course, prices=prices)


@bp.route("/cours/<slug>/reservation")
@reads_only
def booking(slug):
    """Duration, month calendar, the chosen day's slots and the optional tutor picker."""
    now = utcnow()
    offer = _offer_or_404(slug, now)
    course = offer.course
    rules = BookingRules.from_config(current_app.config)
    duration = parse_duration(request.args.get("duree", "60"))
    tutor_id = parse_optional_id(request.args.get("tuteur"))
    day = parse_date(request.args["date"]) if request.args.get("date") else None
    month = parse_month(request.args["mois"]) if request.args.get("mois") and day is None else None
    calendars = visitor_calendars(current_app, session, offer, duration, now, tutor_id)
    month, days, slots = calendars.month_and_day(month, day)
    first_day, last_day = rules.window(now).local_days()
    previous_month, next_month = add_months(month, -1), add_months(month, 1)
    return render_template(
        "public/booking.html",
        course=course,
        booking_path=url_for("public.booking", slug=course.slug),
        tutors=offer.tutors,
        durations=[(d, DURATION_LABELS[d], price_label(session_price(course, d))) for d in SESSION_DURATIONS],
        duration=duration,
        tutor_id=tutor_id,
        month=month,
        weeks=month_weeks(month),
        open_days=set(days),
        first_day=first_day,
        last_day=last_day,
        day=day,
        slots=[(slot, clock_label(slot.starts_at), clock_label(slot.ends_at)) for slot in slots],
        previous_month=previous_month if previous_month >= first_day.replace(day=1) else None,
        next_month=next_month if next_month <= last_day else None,
        price=session_price(course, duration),
    )
