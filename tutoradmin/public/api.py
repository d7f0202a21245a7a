"""JSON used by the booking page: a day's slots and a month's bookable days."""

from flask import abort, current_app, jsonify, request, session

from ..booking_cache import calendar_cache, kept_offer, visitor_calendars
from ..localtime import to_local
from ..models import utcnow
from ..params import parse_date, parse_duration, parse_month, parse_optional_id
from ..pricing import session_price
from .blueprint import bp
from .labels import clock_label, price_label
from .read_only import reads_only


def _offer_or_404(slug, now):
    offer = kept_offer(calendar_cache(current_app), slug, now)
    if offer is None:
        abort(404)
    return offer


def slot_json(slot, price, with_tutor=False):
    """A slot for the page, with its price in cents (the same for every slot of a course and duration)."""
    data = {
        "debut": to_local(slot.starts_at).isoformat(),
        "fin": to_local(slot.ends_at).isoformat(),
        "heure": clock_label(slot.starts_at),
        "heure_fin": clock_label(slot.ends_at),
        "duree": slot.duration_minutes,
        "prix_cents": price,
        "prix": price_label(price),
    }
    if with_tutor:
        data["tuteur_id"] = slot.tutor_id
    return data


@bp.get("/api/cours/<slug>/creneaux")
@reads_only
def api_day_slots(slug):
    now = utcnow()
    offer = _offer_or_404(slug, now)
    day = parse_date(request.args.get("date"))
    duration = parse_duration(request.args.get("duree"))
    tutor_id = parse_optional_id(request.args.get("tuteur"))
    slots = visitor_calendars(current_app, session, offer, duration, now, tutor_id).day_slots(day)
    price = session_price(offer.course, duration)
    return jsonify(
        date=day.isoformat(),
        duree=duration,
        creneaux=[slot_json(s, price, with_tutor=tutor_id is not None) for s in slots],
    )


@bp.get("/api/cours/<slug>/disponibilites")
@reads_only
def api_month_days(slug):
    now = utcnow()
    offer = _offer_or_404(slug, now)
    month = parse_month(request.args.get("mois"))
    duration = parse_duration(request.args.get("duree"))
    tutor_id = parse_optional_id(request.args.get("tuteur"))
    days = visitor_calendars(current_app, session, offer, duration, now, tutor_id).month_days(month)
    return jsonify(mois=month.strftime("%Y-%m"), duree=duration, jours=[d.isoformat() for d in days])
