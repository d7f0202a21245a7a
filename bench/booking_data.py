"""The booking benchmark's dataset: tutors, courses, weekly hours, time off and a year of sessions.

Rows are valid for the schema the migrations build: each account has its session token, each
occupying session owns its 30-minute slot cells (`SlotLock`), past sessions are completed and
marked present with the shares the policy gives (migration 0010), and no two sessions of a tutor
overlap (the exclusion constraint on PostgreSQL, triggers on SQLite, check them as rows go in).
"""

import random
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from _common import reset_sequences
from sqlalchemy import insert

from tutoradmin.extensions import db
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import (
    Appointment,
    AvailabilityException,
    Course,
    SlotLock,
    TimeOff,
    Tutor,
    TutorCourse,
    User,
    WeeklyRule,
)
from tutoradmin.occupancy import cells


@dataclass(frozen=True)
class Size:
    tutors: int = 60
    courses: int = 20
    busiest_tutors: int = 16
    students: int = 400
    days_past: int = 270
    days_ahead: int = 90


FULL = Size()
#: A few seconds' worth, for the smoke test: the same shapes, a thousandth of the rows.
TINY = Size(tutors=6, courses=4, busiest_tutors=4, students=20, days_past=10, days_ahead=20)
SESSION_HOURS = (9, 10, 13, 15, 17, 19)
CHUNK = 5000


def _insert(model, rows):
    for start in range(0, len(rows), CHUNK):
        db.session.execute(insert(model.__table__), rows[start : start + CHUNK])


def _user(user_id, email, role, now):
    return {
        "id": user_id,
        "email": email,
        "password_hash": "x",
        "role": role,
        "status": "active",
        "first_name": "Banc",
        "last_name": str(user_id),
        "created_at": now,
        "session_token": secrets.token_urlsafe(32),
    }


def _people(size, rng, now):
    users = [_user(i, f"tuteur{i}@banc.test", "tutor", now) for i in range(1, size.tutors + 1)]
    users += [_user(size.tutors + i, f"eleve{i}@banc.test", "student", now) for i in range(1, size.students + 1)]
    _insert(User, users)
    courses = [
        {
            "id": i,
            "slug": f"cours-{i - 1}",
            "title": f"Cours {i - 1}",
            "full_name": "",
            "description": "",
            "rate_cents": 4500,
            "active": True,
            "created_at": now,
        }
        for i in range(1, size.courses + 1)
    ]
    _insert(Course, courses)
    tutors = [
        {
            "id": i,
            "user_id": i,
            "display_name": f"Tuteur {i}",
            "bio": "",
            "hourly_rate_cents": 2500,
            "priority": rng.randint(0, 20),
            "active": True,
            "created_at": now,
        }
        for i in range(1, size.tutors + 1)
    ]
    _insert(Tutor, tutors)
    # The busiest course (id 1) has `busiest_tutors` tutors; every tutor teaches three other courses.
    assignments = {(t, 1) for t in range(1, size.busiest_tutors + 1)}
    for tutor in range(1, size.tutors + 1):
        for course in rng.sample(range(2, size.courses + 1), min(3, size.courses - 1)):
            assignments.add((tutor, course))
    _insert(TutorCourse, [{"tutor_id": t, "course_id": c, "created_at": now} for t, c in sorted(assignments)])


def _hours(size, rng, today, now):
    rules, exceptions, time_off = [], [], []
    for tutor in range(1, size.tutors + 1):
        for weekday in rng.sample(range(7), 5):
            for start, end in ((time(9), time(12)), (time(13), time(21))):
                rules.append(
                    {"tutor_id": tutor, "weekday": weekday, "start_time": start, "end_time": end, "created_at": now}
                )
        for day in rng.sample(range(1, 61), 4):
            exceptions.append(
                {
                    "tutor_id": tutor,
                    "date": today + timedelta(days=day),
                    "kind": "closed",
                    "note": "",
                    "created_at": now,
                }
            )
        start = local_instant(today + timedelta(days=rng.randint(1, 60)), time(0))
        time_off.append(
            {
                "tutor_id": tutor,
                "starts_at": start,
                "ends_at": start + timedelta(days=3),
                "reason": "",
                "created_at": now,
            }
        )
    _insert(WeeklyRule, rules)
    _insert(AvailabilityException, exceptions)
    _insert(TimeOff, time_off)


def _session(size, rng, tutor, starts, past):
    ends = starts + timedelta(hours=1)
    row = {
        "student_id": size.tutors + 1 + rng.randrange(size.students),
        "tutor_id": tutor,
        "course_id": 1 if tutor <= size.busiest_tutors else 2,
        "starts_at": starts,
        "ends_at": ends,
        "duration_minutes": 60,
        "status": "scheduled",
        "created_at": starts - timedelta(days=7),
        # Every row names every column: an executemany takes its columns from the first row.
        "completed_at": None,
        "attendance": None,
        "attendance_marked_at": None,
        "tutor_share_percent": None,
        "student_credit_percent": None,
    }
    if past:
        # A past session is completed by its attendance mark: present, the tutor paid in full.
        marked = ends + timedelta(hours=1)
        row.update(
            status="completed",
            completed_at=marked,
            attendance="present",
            attendance_marked_at=marked,
            tutor_share_percent=100,
            student_credit_percent=0,
        )
    return row


def _sessions(size, rng, today, now):
    """About three sessions a day per tutor, each with its slot cells; returns how many."""
    sessions = []
    for tutor in range(1, size.tutors + 1):
        for offset in range(-size.days_past, size.days_ahead):
            day = today + timedelta(days=offset)
            for hour in rng.sample(SESSION_HOURS, 3):
                starts = local_instant(day, time(hour))
                sessions.append(_session(size, rng, tutor, starts, past=starts + timedelta(hours=1) < now))
    # Latest first: SQLite's overlap trigger then finds no earlier session of the tutor to compare with.
    sessions.sort(key=lambda row: row["starts_at"], reverse=True)
    locks = []
    for number, row in enumerate(sessions, start=1):
        row["id"] = number
        locks.extend(
            {"tutor_id": row["tutor_id"], "cell_start": cell, "appointment_id": number}
            for cell in cells(row["starts_at"], row["ends_at"])
        )
    _insert(Appointment, sessions)
    _insert(SlotLock, locks)
    return len(sessions)


def build_dataset(size=FULL, seed=42, now=None):
    """Insert the dataset (in the app context) and return (the busiest course's slug, number of sessions)."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    today = now.astimezone(LOCAL_TZ).date()
    _people(size, rng, now)
    _hours(size, rng, today, now)
    count = _sessions(size, rng, today, now)
    reset_sequences(db.session.connection(), ["users", "courses", "tutors", "appointments"])
    db.session.commit()
    return "cours-0", count
