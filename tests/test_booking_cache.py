"""Calendars kept a few seconds: the same answers, a hold shows within the lifetime, at once for its taker."""

import re
from datetime import date, time, timedelta

import pytest
from sqlalchemy import select

import tutoradmin.public.api
import tutoradmin.public.cart
import tutoradmin.public.catalog
from tutoradmin.booking_cache import CachedCalendars, CalendarCache, calendar_cache
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import CartItem, TimeOff, utcnow
from tutoradmin.offers import course_offer, day_slots, month_and_day, month_days
from tutoradmin.slots import BookingRules

from .booking_requests import add_json
from .booking_requests import course_offer as two_tutor_course
from .query_counts import count_queries

RULES = BookingRules()
# A CSRF token is signed with the second it was made: two renders a second apart differ there only.
CSRF_TOKEN = re.compile(r'(data-csrf="|name="csrf_token" value=")[^"]+')


def _page(client, url):
    return CSRF_TOKEN.sub(r"\1…", client.get(url).get_data(as_text=True))


CACHED = pytest.mark.app_config(CALENDAR_CACHE_SECONDS=3)


@pytest.fixture(autouse=True)
def _empty_cache(app):
    # The app (and its cache) is shared by the tests with the same settings; each starts with nothing kept.
    calendar_cache(app).clear()


@pytest.fixture
def clock(monkeypatch):
    """The instant the public pages see, moved by hand: `clock.advance(seconds)`."""

    class Clock:
        now = utcnow()

        def advance(self, seconds):
            self.now += timedelta(seconds=seconds)

    moved = Clock()
    for module in (tutoradmin.public.api, tutoradmin.public.cart, tutoradmin.public.catalog):
        monkeypatch.setattr(module, "utcnow", lambda: moved.now)
    return moved


def _starts(client, offer):
    data = client.get(f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=60").get_json()
    return [s["debut"] for s in data["creneaux"]]


def _local(instant):
    return instant.astimezone(LOCAL_TZ).isoformat()


@CACHED
def test_a_cached_answer_is_the_same_json_as_the_computed_one(app, client, db, make, clock):
    offer = two_tutor_course(db, make)
    urls = [
        f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=60",
        f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=90&tuteur={offer.other.id}",
        f"/api/cours/{offer.slug}/disponibilites?mois={offer.day:%Y-%m}&duree=120",
        f"/cours/{offer.slug}/reservation?date={offer.day}",
    ]
    computed = [_page(client, url) for url in urls]
    # Two days, the month map and the page's month (the page's day is the first URL's), and the offer.
    assert len(calendar_cache(app)) == 5
    assert [_page(client, url) for url in urls] == computed
    assert computed[3].count("…") > 1  # the token of the page and of each slot's form
    assert '"tuteur_id"' in computed[1] and offer.day.isoformat() in computed[2]


@CACHED
@pytest.mark.parametrize(
    "url",
    [
        "/api/cours/{slug}/creneaux?date={day}&duree=60",
        "/api/cours/{slug}/disponibilites?mois={day:%Y-%m}&duree=120",
        "/cours/{slug}/reservation?date={day}",
        "/cours/{slug}/reservation",
    ],
)
def test_a_calendar_read_again_within_its_lifetime_costs_no_statement(client, db, make, clock, url):
    offer = two_tutor_course(db, make)
    url = url.format(slug=offer.slug, day=offer.day)
    with count_queries(db) as first:
        assert client.get(url).status_code == 200
    with count_queries(db) as again:
        assert client.get(url).status_code == 200
    # The offer (course and tutors), then the calendars; both kept.
    assert len(first) == 2
    assert again == []


@CACHED
def test_an_unknown_course_is_never_kept(app, client, db, make):
    for _ in range(2):
        assert client.get("/api/cours/inconnu/creneaux?date=2030-01-07&duree=60").status_code == 404
        assert client.get("/cours/inconnu/reservation").status_code == 404
    assert len(calendar_cache(app)) == 0


@CACHED
def test_a_tutor_leaving_the_course_shows_within_the_lifetime_and_at_once_to_the_cart(client, db, make, clock):
    offer = two_tutor_course(db, make)
    url = f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=60&tuteur={offer.other.id}"
    assert client.get(url).get_json()["creneaux"]
    offer.other.active = False
    db.session.commit()
    # The kept offer still names the tutor for a few seconds; the cart reads the offer afresh.
    assert client.get(url).get_json()["creneaux"]
    assert add_json(client, offer, tutor=offer.other.id).status_code == 404
    clock.advance(3)
    assert client.get(url).status_code == 404


@CACHED
def test_a_hold_shows_to_others_after_the_lifetime_and_at_once_to_its_taker(app, db, make, clock):
    offer = two_tutor_course(db, make)
    visitor, taker = app.test_client(), app.test_client()
    start = offer.start(14)
    make.appointment(tutor=offer.other, course=offer.course, starts_at=start)  # only one tutor free at 14:00
    db.session.commit()
    assert _local(start) in _starts(visitor, offer)
    assert add_json(taker, offer, start=start).status_code == 200

    clock.advance(1)
    assert _local(start) in _starts(visitor, offer)  # still the calendar kept a second ago
    assert _local(start) not in _starts(taker, offer)  # the taker's own change, at once
    clock.advance(3)
    assert _local(start) not in _starts(visitor, offer)

    item_id = db.session.scalar(select(CartItem.id))
    assert taker.post(f"/panier/retirer/{item_id}", headers={"Accept": "application/json"}).status_code == 200
    assert _local(start) in _starts(taker, offer)  # released: free again for the taker at once
    # The taker's fresh calendar replaced the kept one: the others get it too.
    assert _local(start) in _starts(visitor, offer)


def test_without_a_lifetime_a_hold_shows_to_everyone_at_once(app, db, make):
    offer = two_tutor_course(db, make)
    visitor, taker = app.test_client(), app.test_client()
    start = offer.start(14)
    make.appointment(tutor=offer.other, course=offer.course, starts_at=start)
    db.session.commit()
    assert _local(start) in _starts(visitor, offer)
    assert add_json(taker, offer, start=start).status_code == 200
    assert _local(start) not in _starts(visitor, offer)
    assert len(calendar_cache(app)) == 0


@CACHED
def test_a_course_price_change_shows_within_the_lifetime(client, db, make, clock):
    offer = two_tutor_course(db, make)
    url = f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=90"
    assert {s["prix_cents"] for s in client.get(url).get_json()["creneaux"]} == {6750}
    offer.course.rate_cents = 6000
    db.session.commit()
    clock.advance(3)
    assert {s["prix_cents"] for s in client.get(url).get_json()["creneaux"]} == {9000}


@CACHED
def test_the_move_calendar_is_never_kept(app, client, db, make, login):
    offer = two_tutor_course(db, make)
    student = make.user()
    session = make.appointment(student=student, tutor=offer.best, course=offer.course, starts_at=offer.start(9, days=3))
    db.session.commit()
    login(student)
    page = f"/tableau-de-bord/seances/{session.id}/deplacer"
    assert client.get(f"{page}?date={offer.day}").status_code == 200
    assert client.get(f"{page}?mois={offer.day:%Y-%m}").status_code == 200
    assert len(calendar_cache(app)) == 0
    assert client.get(f"/api/cours/{offer.slug}/creneaux?date={offer.day}&duree=60").status_code == 200
    assert len(calendar_cache(app)) == 2  # the offer and the day


@CACHED
def test_the_course_list_is_kept_and_a_course_change_shows_within_the_lifetime(client, db, make, clock):
    course = make.course(title="Calcul différentiel", sigle="MAT-1900", rate_cents=4500)
    make.course(title="Inactif", active=False)
    db.session.commit()
    first = client.get("/cours").get_data(as_text=True)
    with count_queries(db) as statements:
        again = client.get("/cours").get_data(as_text=True)
    assert statements == [] and again == first
    assert "Calcul différentiel" in first and "MAT-1900" in first and "Inactif" not in first
    course.title, course.rate_cents = "Calcul intégral", 5000
    db.session.commit()
    clock.advance(1)
    assert "Calcul différentiel" in client.get("/cours").get_data(as_text=True)
    clock.advance(3)
    page = client.get("/cours").get_data(as_text=True)
    assert "Calcul intégral" in page and "50,00" in page


# --- the cache itself, with `now` given ---------------------------------------------------------------------------


def _calendars(cache, offer, now, duration=60, tutor_id=None):
    return CachedCalendars(cache, offer.read, duration, now, RULES, tutor_id)


def _course(db, make):
    offer = two_tutor_course(db, make)
    offer.read = course_offer(offer.slug)  # the course and its tutors, as the booking views read them
    return offer


def test_slots_past_the_minimum_notice_never_come_out_of_the_cache(db, make):
    offer = _course(db, make)
    cache = CalendarCache(600)
    # The notice (12 h) falls a minute before 10:00 on the day: 10:00 is the first slot.
    before = local_instant(offer.day, time(10)) - timedelta(hours=12, minutes=1)
    assert _calendars(cache, offer, before).day_slots(offer.day)[0].starts_at == offer.start(10)
    later = before + timedelta(minutes=2)
    with count_queries(db) as statements:
        slots = _calendars(cache, offer, later).day_slots(offer.day)
    assert statements == []
    assert slots[0].starts_at == offer.start(10, 30)
    assert slots == day_slots(offer.course, offer.day, 60, later, RULES, tutors=offer.read.tutors)


def test_a_day_whose_last_slot_passed_the_notice_leaves_the_cached_month(db, make):
    offer = _course(db, make)
    cache = CalendarCache(600)
    month = offer.day.replace(day=1)
    # 16:00 is the day's last one-hour slot; the notice reaches it a minute later.
    before = local_instant(offer.day, time(16)) - timedelta(hours=12, minutes=1)
    assert offer.day in _calendars(cache, offer, before).month_days(month)
    assert offer.day in _calendars(cache, offer, before + timedelta(seconds=30)).month_days(month)
    assert len(cache) == 1
    later = before + timedelta(minutes=2)
    days = _calendars(cache, offer, later).month_days(month)
    assert offer.day not in days
    assert days == month_days(offer.course, month, 60, later, RULES)


def test_tutor_choice_duration_and_month_each_have_their_own_entry(db, make):
    offer = two_tutor_course(db, make)
    db.session.add(TimeOff(tutor_id=offer.other.id, starts_at=offer.start(0), ends_at=offer.start(0, days=1)))
    make.appointment(tutor=offer.best, course=offer.course, starts_at=offer.start(10))
    db.session.commit()
    offer.read = course_offer(offer.slug)
    cache, now = CalendarCache(600), utcnow()
    month, following = offer.day.replace(day=1), (offer.day.replace(day=1) + timedelta(days=31)).replace(day=1)
    tutors = offer.read.tutors
    for _ in range(2):  # computed, then read back
        for tutor_id in (None, offer.best.id, offer.other.id):
            for duration in (60, 120):
                calendars = _calendars(cache, offer, now, duration, tutor_id)
                assert calendars.day_slots(offer.day) == day_slots(
                    offer.course, offer.day, duration, now, RULES, tutor_id, tutors
                )
                for first in (month, following):
                    assert calendars.month_days(first) == month_days(
                        offer.course, first, duration, now, RULES, tutor_id, tutors
                    )
    assert len(cache) == 3 * 2 * 3
    assert _calendars(cache, offer, now, 60, offer.other.id).day_slots(offer.day) == []
    assert _calendars(cache, offer, now, 60, offer.best.id).day_slots(offer.day)


def test_the_booking_page_calendar_read_back_is_the_computed_one(db, make):
    offer = _course(db, make)
    cache, now = CalendarCache(600), utcnow()
    month = offer.day.replace(day=1)
    for asked_month, asked_day in ((None, None), (month, None), (None, offer.day), (None, offer.day)):
        kept = _calendars(cache, offer, now).month_and_day(asked_month, asked_day)
        computed = month_and_day(offer.course, asked_month, asked_day, 60, now, RULES, tutors=offer.read.tutors)
        assert kept == computed
    assert kept[2] and offer.day in kept[1]


def test_the_cache_keeps_a_bounded_number_of_entries_least_recently_used_out_first():
    cache, now = CalendarCache(60, max_entries=2), utcnow()
    cache.put("a", 1, now)
    cache.put("b", 2, now)
    assert cache.get("a", now) == 1
    cache.put("c", 3, now)
    assert len(cache) == 2
    assert (cache.get("a", now), cache.get("b", now), cache.get("c", now)) == (1, None, 3)


def test_an_entry_ends_at_its_lifetime_or_its_own_end_and_nothing_is_kept_without_a_lifetime():
    now = utcnow()
    cache = CalendarCache(3)
    cache.put("day", [1], now)
    cache.put("month", [2], now, until=now + timedelta(seconds=1))
    assert cache.get("day", now + timedelta(seconds=2)) == [1]
    assert cache.get("month", now + timedelta(seconds=1)) is None
    assert cache.get("day", now + timedelta(seconds=3)) is None
    cache.put("later", [3], now)
    assert cache.get("later", now - timedelta(hours=1)) is None  # a clock set back does not stretch it
    off = CalendarCache(0)
    off.put("day", [1], now)
    assert len(off) == 0 and not off.enabled


def test_an_unknown_day_or_month_is_computed_not_assumed(db, make):
    offer = _course(db, make)
    cache = CalendarCache(600)
    far = date(offer.day.year + 5, 1, 1)
    assert _calendars(cache, offer, utcnow()).month_days(far) == []
    assert _calendars(cache, offer, utcnow()).day_slots(far) == []
