"""JSON used by the booking page: a day's slots and a month's bookable days."""

from flask import abort, current_app, jsonify, request

from ..formatting import local_time, money
from ..localtime import to_local
from ..models import utcnow
from ..offers import active_course, day_slots, month_days
from ..params import parse_date, parse_duration, parse_month, parse_optional_id
from ..pricing import session_price
from ..slots import BookingRules
from .blueprint import bp


def _course_or_404(slug):
    course = active_course(slug)
    if course is None:
        abort(404)
    return course


def slot_json(slot, course, with_tutor=False):
    price = session_price(course, slot.duration_minutes)
    data = {
        "debut": to_local(slot.starts_at).isoformat(),
        "fin": to_local(slot.ends_at).isoformat(),
        "heure": local_time(slot.starts_at),
        "heure_fin": local_time(slot.ends_at),
        "duree": slot.duration_minutes,
        "prix_cents": price,
        "prix": money(price),
    }
    if with_tutor:
        data["tuteur_id"] = slot.tutor_id
    return data


@bp.get("/api/cours/<slug>/creneaux")
def api_day_slots(slug):
    course = _course_or_404(slug)
    day = parse_date(request.args.get("date"))
    duration = parse_duration(request.args.get("duree"))
    tutor_id = parse_optional_id(request.args.get("tuteur"))
    slots = day_slots(course, day, duration, utcnow(), BookingRules.from_config(current_app.config), tutor_id)
    return jsonify(
        date=day.isoformat(),
        duree=duration,
        creneaux=[slot_json(s, course, with_tutor=tutor_id is not None) for s in slots],
    )


@bp.get("/api/cours/<slug>/disponibilites")
def api_month_days(slug):
    course = _course_or_404(slug)
    month = parse_month(request.args.get("mois"))
    duration = parse_duration(request.args.get("duree"))
    tutor_id = parse_optional_id(request.args.get("tuteur"))
    days = month_days(course, month, duration, utcnow(), BookingRules.from_config(current_app.config), tutor_id)
    return jsonify(mois=month.strftime("%Y-%m"), duree=duration, jours=[d.isoformat() for d in days])
