"""The booking pages and their JSON read little: a fixed, small number of statements, labels formatted once."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask import url_for
from sqlalchemy import select

from tutoradmin.calendars import UnknownTutor, pick_tutors
from tutoradmin.formatting import local_time, money
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import CartItem
from tutoradmin.offers import course_offer
from tutoradmin.public.labels import clock_label, price_label
from tutoradmin.slots import BookingWindow, TutorCalendar, has_slot, tutor_slots

from .booking_requests import add_json
from .query_counts import count_queries


def _course(db, make, tutors):
    """A course whose tutors teach every day from 9:00 to 17:00, each with one session a week ahead."""
    course = make.course(rate_cents=4500)
    day = (datetime.now(UTC).astimezone(LOCAL_TZ) + timedelta(days=7)).date()
    for i in range(tutors):
        tutor = make.tutor(courses=[course], priority=i)
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        make.appointment(tutor=tutor, course=course, starts_at=local_instant(day, time(9 + i % 8)))
    db.session.commit()
    return course.slug, day


def _statements(client, db, url):
    with count_queries(db) as statements:
        response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[:300]
    return statements


@pytest.mark.parametrize("tutors", [2, 9])
def test_slots_month_map_and_booking_page_cost_two_statements_whatever_the_number_of_tutors(client, db, make, tutors):
    slug, day = _course(db, make, tutors)
    urls = [
        f"/api/cours/{slug}/creneaux?date={day}&duree=60",
        f"/api/cours/{slug}/disponibilites?mois={day:%Y-%m}&duree=120",
        f"/cours/{slug}/reservation",
        f"/cours/{slug}/reservation?date={day}",
    ]
    for url in urls:
        statements = _statements(client, db, url)
        # The course with its tutors, then every tutor's rules, exceptions, time off, sessions and holds.
        assert len(statements) == 2, (url, statements)
    slots = client.get(urls[0]).get_json()["creneaux"]
    assert slots and all(s["prix"] == money(4500) for s in slots)


def test_a_hold_shows_in_the_slots_at_once_and_its_release_too(client, db, make):
    slug, day = _course(db, make, 1)
    url = f"/api/cours/{slug}/creneaux?date={day}&duree=60"
    start = local_instant(day, time(14))
    assert start.astimezone(LOCAL_TZ).isoformat() in [s["debut"] for s in client.get(url).get_json()["creneaux"]]

    offer = type("Offer", (), {"slug": slug})
    assert add_json(client, offer, start=start).status_code == 200
    starts = [s["debut"] for s in client.get(url).get_json()["creneaux"]]
    assert start.astimezone(LOCAL_TZ).isoformat() not in starts
    assert (start - timedelta(minutes=30)).astimezone(LOCAL_TZ).isoformat() not in starts  # 13:30 would overlap

    item_id = db.session.scalar(select(CartItem.id))
    assert client.post(f"/panier/retirer/{item_id}", headers={"Accept": "application/json"}).status_code == 200
    assert start.astimezone(LOCAL_TZ).isoformat() in [s["debut"] for s in client.get(url).get_json()["creneaux"]]


def test_an_offer_holds_the_course_and_only_its_active_tutors_best_first(db, make):
    course, other = make.course(), make.course()
    second = make.tutor(courses=[course], priority=5, display_name="Bruno")
    first = make.tutor(courses=[course], priority=1, display_name="Alice")
    make.tutor(courses=[course], priority=0, active=False)
    make.tutor(courses=[other], priority=0)
    lonely = make.course()
    closed = make.course(active=False)
    db.session.commit()

    offer = course_offer(course.slug)
    assert offer.course.id == course.id
    assert [(t.id, t.display_name) for t in offer.tutors] == [(first.id, "Alice"), (second.id, "Bruno")]
    assert [t.id for t in pick_tutors(offer.tutors, second.id)] == [second.id]
    with pytest.raises(UnknownTutor):
        pick_tutors(offer.tutors, second.id + 1000)
    assert course_offer(lonely.slug).tutors == ()
    assert course_offer(closed.slug) is None
    assert course_offer("nulle-part") is None


@pytest.mark.parametrize("day", [date(2026, 3, 8), date(2026, 11, 1), date(2026, 12, 7)])
def test_clock_and_price_labels_are_those_of_the_formatting_functions(day):
    # Daylight-saving days included: a label depends on the local time only.
    for minutes in range(0, 24 * 60, 30):
        moment = datetime.combine(day, time(0), tzinfo=LOCAL_TZ).astimezone(UTC) + timedelta(minutes=minutes)
        assert clock_label(moment) == local_time(moment)
    for cents in (4500, 6750, 9000, 123456, 1):
        assert price_label(cents) == money(cents)


def test_booking_page_links_keep_the_duration_month_and_chosen_tutor(app, client, db, make):
    slug, day = _course(db, make, 2)
    tutor_id = course_offer(slug).tutors[1].id
    html = client.get(f"/cours/{slug}/reservation?date={day}&duree=90&tuteur={tutor_id}").get_data(as_text=True)
    with app.test_request_context():
        expected = url_for("public.booking", slug=slug, duree=90, mois=f"{day:%Y-%m}", tuteur=tutor_id, date=day)
    assert f'href="{expected.replace("&", "&amp;")}"' in html
    with app.test_request_context():
        other_duration = url_for("public.booking", slug=slug, duree=60, mois=f"{day:%Y-%m}", tuteur=tutor_id, date=day)
    assert f'href="{other_duration.replace("&", "&amp;")}"' in html


def test_a_day_has_a_slot_exactly_when_the_tutor_has_slots_that_day():
    now = local_instant(date(2026, 12, 1), time(8))
    window = BookingWindow.from_settings(now)
    monday = date(2026, 12, 7)
    busy_all_day = [(local_instant(monday, time(9)), local_instant(monday, time(12)))]
    busy_but_one = [(local_instant(monday, time(9)), local_instant(monday, time(11)))]
    for busy in ([], busy_all_day, busy_but_one):
        calendar = TutorCalendar(tutor_id=1, priority=1, rules={0: [(time(9), time(12))]}, busy=list(busy))
        for day in (monday, monday + timedelta(days=1), date(2026, 12, 1), date(2027, 3, 1)):
            for duration in (60, 90, 120):
                assert has_slot(calendar, day, duration, window) == bool(tutor_slots(calendar, day, duration, window))


@pytest.mark.parametrize("tutors", [2, 9])
def test_adding_a_slot_to_a_cart_costs_the_same_statements_whatever_the_number_of_tutors(client, db, make, tutors):
    slug, day = _course(db, make, tutors)
    offer = type("Offer", (), {"slug": slug})
    assert add_json(client, offer, start=local_instant(day, time(15))).status_code == 200
    with count_queries(db) as statements:
        response = add_json(client, offer, start=local_instant(day, time(16)))
    assert response.status_code == 200, response.get_data(as_text=True)
    # Course and tutors, the sweep, the cart found as it is locked with its items, the calendars, then the
    # hold and its cells (one statement on PostgreSQL, two on SQLite) and the cart item (tests/test_cart_cost.py
    # details the add's own statements).
    distinct = {s for s in statements if not s.startswith(("SAVEPOINT", "RELEASE"))}
    assert len(distinct) == {"postgresql": 6, "sqlite": 7}[db.engine.dialect.name], statements


def test_writes_after_a_read_only_page_are_in_a_transaction_again(client, db, make):
    slug, day = _course(db, make, 1)
    assert client.get(f"/api/cours/{slug}/creneaux?date={day}&duree=60").status_code == 200
    assert client.get(f"/cours/{slug}/reservation").status_code == 200
    make.course(slug="jamais-enregistre")
    db.session.rollback()
    assert course_offer("jamais-enregistre") is None
