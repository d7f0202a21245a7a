"""The tutor's home: the day and the week in Toronto time, the month's figures, marks to give, ratings."""

import re
from datetime import date, time, timedelta
from decimal import Decimal
from html import unescape
from types import SimpleNamespace

import pytest

from tutoradmin import messaging, tutor_home
from tutoradmin.localtime import local_instant
from tutoradmin.models import MeetingLink, Rating, utcnow

from .query_counts import count_queries

# Thursday 10 December 2026, noon in Toronto (17:00 UTC).
TODAY = date(2026, 12, 10)
NOW = local_instant(TODAY, time(12))


def at(day, hour, minute=0):
    return local_instant(day, time(hour, minute))


def _mark(appointment, kind, tutor_share, credit=0):
    """A session marked as the attendance rules leave it (status completed, the shares in force)."""
    appointment.status, appointment.completed_at = "completed", appointment.ends_at
    appointment.attendance, appointment.attendance_marked_at = kind, appointment.ends_at
    appointment.tutor_share_percent, appointment.student_credit_percent = tutor_share, credit
    return appointment


@pytest.fixture
def week(db, make):
    """A tutor at 40 $/h with sessions around TODAY, ratings, and a colleague with sessions of their own."""
    course = make.course(title="Calcul I", rate_cents=7777)
    tutor = make.tutor(courses=[course], hourly_rate_cents=4000)
    alice = make.user(first_name="Alice", last_name="Lapointe")
    colleague = make.tutor(courses=[course])

    def session(starts_at, **fields):
        return make.appointment(tutor=tutor, student=alice, course=course, starts_at=starts_at, **fields)

    rows = SimpleNamespace(tutor=tutor, student=alice, course=course, colleague=colleague)
    # Today, local time: the first minute of the day, a morning session over and unmarked, and 23:00
    # (04:00 UTC on the 11th).
    rows.midnight = session(at(TODAY, 0), status="completed")
    rows.morning = session(at(TODAY, 9))
    rows.late = session(at(TODAY, 23))
    rows.cancelled = session(at(TODAY, 15), status="cancelled", cancelled_at=NOW)
    # The seven days after today: the first and the last minute, and a day later (left out).
    rows.tomorrow = session(at(TODAY + timedelta(days=1), 0))
    rows.day_seven = session(at(TODAY + timedelta(days=7), 23))
    rows.day_eight = session(at(TODAY + timedelta(days=8), 0))
    # Yesterday 22:30 (03:30 UTC today): neither today nor waiting (marked).
    rows.yesterday = session(at(TODAY - timedelta(days=1), 22, 30), status="completed")
    # Earlier this month: a no-show paid in full and a late cancellation paid half; a session
    # still unmarked from last week.
    rows.no_show = _mark(session(at(date(2026, 12, 2), 10)), "no_show", 100)
    rows.late_cancel = _mark(session(at(date(2026, 12, 3), 10)), "late_cancel", 50, 50)
    rows.unmarked = session(at(date(2026, 12, 4), 10))
    # Last month: 90 minutes on 30 November at 23:30 local (1 December in UTC), and a cancelled one.
    rows.november = session(at(date(2026, 11, 30), 23, 30), status="completed", duration_minutes=90)
    session(at(date(2026, 11, 16), 10), status="cancelled", cancelled_at=NOW)
    # The colleague's sessions today and in a week, and their unmarked one.
    make.appointment(tutor=colleague, course=course, starts_at=at(TODAY, 10))
    make.appointment(tutor=colleague, course=course, starts_at=at(TODAY + timedelta(days=2), 10))
    make.appointment(tutor=colleague, course=course, starts_at=at(TODAY - timedelta(days=2), 10))
    db.session.add(MeetingLink(appointment=rows.late, provider="zoom", url="https://zoom.us/j/1"))
    ratings = [
        (rows.yesterday, 5, "Très clair, merci !", NOW - timedelta(hours=10)),
        (rows.midnight, 4, "", NOW - timedelta(hours=2)),
        (rows.november, 4, "Bonne séance", NOW - timedelta(days=9)),
    ]
    for appointment, score, comment, created_at in ratings:
        db.session.add(
            Rating(
                appointment_id=appointment.id,
                student_id=alice.id,
                score=score,
                comment=comment,
                created_at=created_at,
            )
        )
    theirs = make.appointment(tutor=colleague, course=course, starts_at=at(date(2026, 12, 1), 10), status="completed")
    db.session.add(Rating(appointment_id=theirs.id, student_id=theirs.student_id, score=1, comment="Collègue"))
    db.session.commit()
    return rows


def _ids(lines):
    return [line.appointment.id for line in lines]


def test_today_and_the_next_seven_days_follow_toronto_days(db, week):
    home = tutor_home.home(week.tutor, week.tutor.user, NOW)

    assert home.day == TODAY
    assert _ids(home.today) == [week.midnight.id, week.morning.id, week.late.id]
    assert [line.upcoming for line in home.today] == [False, False, True]
    assert [(day, _ids(lines)) for day, lines in home.days] == [
        (TODAY + timedelta(days=1), [week.tomorrow.id]),
        (TODAY + timedelta(days=7), [week.day_seven.id]),
    ]


def test_the_home_counts_this_and_last_months_marked_sessions_with_their_shares(db, week):
    home = tutor_home.home(week.tutor, week.tutor.user, NOW)

    # December: midnight and yesterday present (40 + 40), the no-show paid 100 % (40), the late
    # cancellation 50 % (20); 4 hours. November: 90 minutes present, 60 $.
    assert [(m.month, m.minutes, m.earnings_cents) for m in home.months] == [
        (date(2026, 12, 1), 240, 14000),
        (date(2026, 11, 1), 90, 6000),
    ]


def test_the_home_lists_the_tutors_sessions_waiting_for_a_mark_oldest_first(db, week):
    home = tutor_home.home(week.tutor, week.tutor.user, NOW)

    assert [a.id for a in home.awaiting] == [week.unmarked.id, week.morning.id]


def test_the_rating_average_and_count_cover_the_tutors_ratings_and_comments_only(db, week):
    rating = tutor_home.home(week.tutor, week.tutor.user, NOW).rating

    assert (rating.average, rating.count) == (Decimal("4.3"), 3)
    assert [(c.score, c.comment, c.course_title) for c in rating.comments] == [
        (5, "Très clair, merci !", "Calcul I"),
        (4, "Bonne séance", "Calcul I"),
    ]
    assert not hasattr(rating.comments[0], "student")


def test_a_tutor_without_sessions_or_ratings_gets_empty_figures(db, make):
    tutor = make.tutor()
    db.session.commit()

    home = tutor_home.home(tutor, tutor.user, NOW)

    assert (home.today, home.days, home.awaiting) == ([], [], [])
    assert [(m.minutes, m.earnings_cents) for m in home.months] == [(0, 0), (0, 0)]
    assert (home.rating.average, home.rating.count, home.rating.comments) == (None, 0, [])


def test_unread_messages_are_counted_per_session_of_the_day(db, week):
    messaging.send(week.late, week.student, "Je serai en retard", NOW)
    messaging.send(week.late, week.student, "Cinq minutes", NOW)
    db.session.commit()

    home = tutor_home.home(week.tutor, week.tutor.user, NOW)

    assert [(line.appointment.id, line.unread) for line in home.today if line.unread] == [(week.late.id, 2)]


# --- the page -------------------------------------------------------------------------------------


def _text(response):
    assert response.status_code == 200
    return unescape(response.get_data(as_text=True))


def _section(html, section_id):
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', html, re.S)
    assert match, section_id
    return match.group(0)


@pytest.fixture
def workday(db, make):
    """The signed-in tutor's sessions around the real now: one in two days, one ended and unmarked, a rating."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    course = make.course(title="Français écrit", rate_cents=7777)
    tutor = make.tutor(courses=[course], hourly_rate_cents=4000)
    student = make.user(first_name="Béatrice", last_name="Zimmermann")
    colleague = make.tutor(courses=[make.course(title="Chimie organique")])
    rows = SimpleNamespace(tutor=tutor, student=student)
    rows.coming = make.appointment(tutor=tutor, student=student, course=course, starts_at=now + timedelta(days=2))
    rows.ended = make.appointment(tutor=tutor, student=student, course=course, starts_at=now - timedelta(days=3))
    done = make.appointment(tutor=tutor, student=student, course=course, starts_at=now - timedelta(days=4, hours=2))
    make.complete(done)
    db.session.add(Rating(appointment_id=done.id, student_id=student.id, score=5, comment="Patiente et claire"))
    make.appointment(tutor=colleague, course=colleague.courses[0], starts_at=now + timedelta(days=1))
    make.appointment(tutor=colleague, course=colleague.courses[0], starts_at=now - timedelta(days=2))
    db.session.commit()
    return rows


def test_the_home_page_shows_the_week_the_marks_to_give_and_the_ratings(client, db, login, workday):
    login(workday.tutor.user)
    messaging.send(workday.coming, workday.student, "Bonjour !", utcnow())
    db.session.commit()

    html = _text(client.get("/admin/"))

    week = _section(html, "next-days")
    assert "Français écrit" in week and "Béatrice" in week and "Lien à ajouter" in week
    assert f"/admin/mes-rendez-vous/lien/{workday.coming.id}" in week
    assert "1 non lu" in week
    awaiting = _section(html, "awaiting-marks")
    assert f"/admin/mes-rendez-vous/presence/{workday.ended.id}" in awaiting and "Marquer la présence" in awaiting
    ratings = _section(html, "ratings")
    assert "5,0 / 5" in ratings and "1 évaluation" in ratings and "Patiente et claire" in ratings
    assert "Béatrice" in _section(html, "unread-conversations")
    assert "40,00" in html  # the hourly rate
    # Never the student's last name, what they paid, or a colleague's sessions.
    assert "Zimmermann" not in html and "77,77" not in html and "Chimie organique" not in html


def test_an_empty_home_says_so_in_french(client, login_as):
    login_as("tutor")

    html = _text(client.get("/admin/"))

    for message in (
        "Aucune séance aujourd'hui.",
        "Aucune séance dans les 7 prochains jours.",
        "Aucune séance en attente de présence.",
        "Aucune séance comptée ce mois-ci ni le mois dernier.",
        "Aucun message en attente de lecture.",
        "Aucune évaluation pour le moment.",
    ):
        assert message in html


def test_a_tutor_account_without_a_profile_is_told_to_ask_the_office(client, make, db, login):
    user = make.user(role="tutor")
    db.session.commit()
    login(user)

    assert "Aucun profil de tuteur" in _text(client.get("/admin/"))


def _busy_tutor(db, make, sessions):
    """A tutor with `sessions` sessions in each block of the home, half with unread messages, and ratings."""
    now = utcnow().replace(minute=0, second=0, microsecond=0)
    tutor = make.tutor()
    for i in range(sessions):
        coming = make.appointment(tutor=tutor, starts_at=now + timedelta(days=1 + i % 6, hours=i))
        if i % 2:
            messaging.send(coming, coming.student, "Question", now)
        make.appointment(tutor=tutor, starts_at=now - timedelta(days=2, hours=i * 2))
        done = make.complete(make.appointment(tutor=tutor, starts_at=now - timedelta(days=10, hours=i * 2)))
        db.session.add(Rating(appointment_id=done.id, student_id=done.student_id, score=4, comment=f"Bien {i}"))
    db.session.commit()
    return tutor


def test_the_home_takes_the_same_queries_whatever_the_number_of_sessions(client, db, make, login):
    counts = []
    for sessions in (2, 12):
        tutor = _busy_tutor(db, make, sessions)
        login(tutor.user)
        client.get("/admin/")
        db.session.expire_all()
        with count_queries(db) as statements:
            html = _text(client.get("/admin/"))
        assert html.count("Marquer la présence") == sessions
        counts.append(len(statements))
    assert counts[0] == counts[1]
