"""Shared by the booking and cart HTTP tests: a course with two free tutors, and requests to the cart."""

from datetime import time, timedelta
from types import SimpleNamespace

from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import Cart, CartItem, Hold, SlotLock, utcnow

from .shopping import count

SLOT_TAKEN = "Ce créneau n'est plus disponible"


def written(db):
    return count(db, Cart), count(db, CartItem), count(db, Hold), count(db, SlotLock)


def course_offer(db, make):
    """A course with two tutors free every day from 9:00 to 17:00, and a day a week ahead."""
    course = make.course(slug="francais-secondaire", rate_cents=4500)
    tutors = []
    for priority, name in ((1, "Alice Premier"), (2, "Bruno Second")):
        tutor = make.tutor(courses=[course], priority=priority, display_name=name)
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        tutors.append(tutor)
    db.session.commit()
    day = (utcnow().astimezone(LOCAL_TZ) + timedelta(days=7)).date()
    return SimpleNamespace(
        course=course,
        slug=course.slug,
        best=tutors[0],
        other=tutors[1],
        day=day,
        start=lambda hour=9, minute=0, days=0: local_instant(day + timedelta(days=days), time(hour, minute)),
    )


def add_json(client, offer, start=None, duration=60, tutor=None, **extra):
    body = {"cours": offer.slug, "creneaux": [{"debut": (start or offer.start()).isoformat(), "duree": duration}]}
    if tutor is not None:
        body["tuteur"] = tutor
    body.update(extra)
    return client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"})


def add_form(client, offer, start=None, duration=60, **extra):
    data = {"cours": offer.slug, "debut": (start or offer.start()).isoformat(), "duree": str(duration)}
    data.update(extra)
    return client.post("/panier/ajouter", data=data)


def flashes(client):
    """The messages flashed since the last call (taken out of the session, as a page would)."""
    with client.session_transaction() as session:
        return [message for _, message in session.pop("_flashes", [])]
