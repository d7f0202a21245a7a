"""Benchmark: month map and day list of the busiest course through the real HTTP stack.

Builds a large SQLite database (60 tutors, 20 courses, 16 tutors on the busiest
course, a year of appointments), serves the app with Werkzeug on a local port
and reports median latencies next to a trivial route of the same app.

    .venv/bin/python bench/booking_bench.py [--requests 200]

Targets (2-core machine, SQLite): month map ≤ 30 ms, day list ≤ 10 ms (median).
"""

import argparse
import http.client
import logging
import random
import statistics
import sys
import tempfile
import threading
import time as clock
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert
from werkzeug.serving import make_server

from tutoradmin import create_app
from tutoradmin.extensions import db
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import (
    Appointment,
    AvailabilityException,
    Course,
    TimeOff,
    Tutor,
    TutorCourse,
    User,
    WeeklyRule,
)

TUTORS = 60
COURSES = 20
BUSIEST_TUTORS = 16


def build_dataset(seed=42):
    """Insert the dataset with bulk statements; returns the busiest course's slug."""
    rng = random.Random(seed)
    now = datetime.now(UTC)
    today = now.astimezone(LOCAL_TZ).date()
    users = [
        {
            "email": f"tuteur{i}@bench.test",
            "password_hash": "x",
            "role": "tutor",
            "status": "active",
            "first_name": "T",
            "last_name": str(i),
            "created_at": now,
        }
        for i in range(TUTORS)
    ] + [
        {
            "email": f"eleve{i}@bench.test",
            "password_hash": "x",
            "role": "student",
            "status": "active",
            "first_name": "E",
            "last_name": str(i),
            "created_at": now,
        }
        for i in range(400)
    ]
    db.session.execute(insert(User), users)
    db.session.execute(
        insert(Course),
        [
            {
                "slug": f"cours-{i}",
                "title": f"Cours {i}",
                "full_name": "",
                "description": "",
                "rate_cents": 4500,
                "active": True,
                "created_at": now,
            }
            for i in range(COURSES)
        ],
    )
    db.session.execute(
        insert(Tutor),
        [
            {
                "user_id": i + 1,
                "display_name": f"Tuteur {i}",
                "bio": "",
                "hourly_rate_cents": 2500,
                "priority": rng.randint(0, 20),
                "active": True,
                "created_at": now,
            }
            for i in range(TUTORS)
        ],
    )
    assignments = {(t, 1) for t in range(1, BUSIEST_TUTORS + 1)}
    for tutor in range(1, TUTORS + 1):
        for course in rng.sample(range(2, COURSES + 1), 3):
            assignments.add((tutor, course))
    db.session.execute(
        insert(TutorCourse), [{"tutor_id": t, "course_id": c, "created_at": now} for t, c in sorted(assignments)]
    )
    rules, exceptions, time_off, appointments = [], [], [], []
    for tutor in range(1, TUTORS + 1):
        for weekday in rng.sample(range(7), 5):
            rules.append(
                {"tutor_id": tutor, "weekday": weekday, "start_time": time(9), "end_time": time(12), "created_at": now}
            )
            rules.append(
                {"tutor_id": tutor, "weekday": weekday, "start_time": time(13), "end_time": time(21), "created_at": now}
            )
        for _ in range(4):
            day = today + timedelta(days=rng.randint(1, 60))
            exceptions.append({"tutor_id": tutor, "date": day, "kind": "closed", "note": "", "created_at": now})
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
        # A year of sessions: the past nine months and the next three, about three a working day.
        for offset in range(-270, 90):
            day = today + timedelta(days=offset)
            for hour in rng.sample([9, 10, 13, 15, 17, 19], 3):
                starts = local_instant(day, time(hour))
                appointments.append(
                    {
                        "student_id": TUTORS + 1 + rng.randrange(400),
                        "tutor_id": tutor,
                        "course_id": 1 if tutor <= BUSIEST_TUTORS else 2,
                        "starts_at": starts,
                        "ends_at": starts + timedelta(hours=1),
                        "duration_minutes": 60,
                        "status": "completed" if offset < 0 else "scheduled",
                        "created_at": now,
                    }
                )
    db.session.execute(insert(WeeklyRule), rules)
    db.session.execute(insert(AvailabilityException), exceptions)
    db.session.execute(insert(TimeOff), time_off)
    for chunk in range(0, len(appointments), 5000):
        db.session.execute(insert(Appointment), appointments[chunk : chunk + 5000])
    db.session.commit()
    return "cours-0", len(appointments)


def measure(port, path, count):
    """Median and 95th percentile in milliseconds of `count` GETs on one keep-alive connection."""
    conn = http.client.HTTPConnection("127.0.0.1", port)
    timings = []
    for i in range(count + 5):
        started = clock.perf_counter()
        conn.request("GET", path)
        response = conn.getresponse()
        body = response.read()
        elapsed = (clock.perf_counter() - started) * 1000
        if response.status != 200:
            raise SystemExit(f"{path} → {response.status}: {body[:200]!r}")
        if i >= 5:  # warm-up requests are not counted
            timings.append(elapsed)
    conn.close()
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.95) - 1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="tutoradmin-bench-"))
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{workdir / 'bench.sqlite3'}", "SECRET_KEY": "bench"})
    with app.app_context():
        db.create_all()
        started = clock.perf_counter()
        slug, appointment_count = build_dataset()
        print(
            f"dataset: {TUTORS} tutors, {COURSES} courses, {BUSIEST_TUTORS} tutors on {slug}, "
            f"{appointment_count} appointments ({clock.perf_counter() - started:.1f} s)"
        )

    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    server = make_server("127.0.0.1", 0, app, threaded=False)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    day = (datetime.now(LOCAL_TZ) + timedelta(days=3)).date()
    month = (day.replace(day=1) + timedelta(days=32)).replace(day=1) if day.day > 20 else day.replace(day=1)
    routes = [
        ("trivial route (/sante)", "/sante"),
        ("month map, 120 min", f"/api/cours/{slug}/disponibilites?mois={month:%Y-%m}&duree=120"),
        ("day list, 120 min", f"/api/cours/{slug}/creneaux?date={day.isoformat()}&duree=120"),
    ]
    print(f"{'route':28} {'median':>9} {'p95':>9}  ({args.requests} requests each)")
    for label, path in routes:
        median, p95 = measure(port, path, args.requests)
        print(f"{label:28} {median:7.2f} ms {p95:7.2f} ms")
    server.shutdown()


if __name__ == "__main__":
    main()
