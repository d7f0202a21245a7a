"""Demo data: a realistic 4AS back office, added only where missing, relative to `now`.

Natural keys (course slug, user email, coupon code, tutor by user) make each part
get-or-create; the history (orders, sessions, refunds, tickets, payouts) and the demo
student's ticket and session conversation are built only when the demo students have no
order yet. The caller commits.
"""

import random
from dataclasses import dataclass, field
from datetime import time, timedelta

from sqlalchemy import select
from werkzeug.security import generate_password_hash

from .. import course_requests
from ..extensions import db
from ..localtime import LOCAL_TZ, add_months, local_day_bounds, local_instant
from ..models import (
    DEFAULT_POLICY,
    ROLE_LABELS,
    AttendancePolicy,
    AvailabilityException,
    Coupon,
    Course,
    CourseRequest,
    ExceptionKind,
    Order,
    Role,
    TimeOff,
    Tutor,
    TutorCourse,
    User,
    UserStatus,
    WeeklyRule,
)
from ..receipts import RECEIPT_STATUSES, assign_receipt_number
from . import data
from .conversations import build_conversations
from .history import build_history


@dataclass
class DemoAccount:
    role: str
    email: str
    #: False when the account existed already with another password (left untouched).
    has_demo_password: bool

    @property
    def role_label(self):
        return ROLE_LABELS.get(Role(self.role), self.role)


@dataclass
class SeedReport:
    """What a run added (French label -> count) and the accounts to print."""

    created: dict = field(default_factory=dict)
    accounts: list = field(default_factory=list)

    def count(self, label, number):
        if number:
            self.created[label] = self.created.get(label, 0) + number


class _Passwords:
    """The demo password hashed once, and only if an account needs it."""

    def __init__(self):
        self._hash = None

    @property
    def computed(self):
        return self._hash is not None

    @property
    def hash(self):
        if self._hash is None:
            self._hash = generate_password_hash(data.DEMO_PASSWORD, method="scrypt")
        return self._hash


def seed_demo(now, seed=data.DEMO_SEED):
    """Add the missing demo data as of `now` (aware UTC) and return a report."""
    report = SeedReport()
    today = now.astimezone(LOCAL_TZ).date()
    # Everything in the catalogue predates the first order of the history.
    founded = local_instant(today - timedelta(days=31 * (data.HISTORY_MONTHS + 2)), time(9))
    passwords = _Passwords()

    courses = _courses(founded, report)
    office, students = _users(founded, passwords, report, today)
    tutors = _tutors(founded, passwords, report)
    _assignments(tutors, courses, founded, report)
    _availability(random.Random(seed), tutors, today, founded, report)
    coupons = _coupons(today, founded, report)
    _attendance_policy(founded, report)
    db.session.flush()

    profiles = data.student_profiles()
    student_list = [students[p["email"]] for p in profiles]
    if not _has_history(student_list):
        # A generator of its own: the history does not depend on what this run had to create.
        counts = build_history(
            random.Random(seed + 1),
            now,
            courses=courses,
            tutors=tutors,
            students=student_list,
            profiles=profiles,
            office=office,
            coupons=coupons,
        )
        for label, number in counts.items():
            report.count(label, number)
        _number_receipts()
        demo_student = students[data.DEMO_STUDENT["email"]]
        counts = build_conversations(now, student=demo_student, tutor=tutors[0], office=office)
        for label, number in counts.items():
            report.count(label, number)
    report.count("demandes de cours", _course_request(now, tutors[0], courses))

    report.accounts = _demo_accounts(office, tutors, students, passwords)
    return report


def _number_receipts():
    """The history's paid orders get their receipt numbers in the order they were paid, as payments do."""
    db.session.flush()
    unnumbered = (
        select(Order)
        .where(Order.status.in_(RECEIPT_STATUSES), Order.paid_at.is_not(None), Order.receipt_number.is_(None))
        .order_by(Order.paid_at, Order.id)
    )
    for order in db.session.scalars(unnumbered).all():
        assign_receipt_number(order, order.paid_at)


def _courses(founded, report):
    """Courses by slug, creating the missing ones."""
    slugs = [c["slug"] for c in data.COURSES]
    existing = {c.slug: c for c in db.session.scalars(select(Course).where(Course.slug.in_(slugs)))}
    missing = [Course(created_at=founded, **c) for c in data.COURSES if c["slug"] not in existing]
    db.session.add_all(missing)
    report.count("cours", len(missing))
    return existing | {c.slug: c for c in missing}


def _get_or_create_users(specs, passwords, created_at):
    """Users by email for the given specs; returns (by email, number created)."""
    emails = [s["email"] for s in specs]
    existing = {u.email: u for u in db.session.scalars(select(User).where(User.email.in_(emails)))}
    created = 0
    for spec in specs:
        if spec["email"] in existing:
            continue
        existing[spec["email"]] = User(
            email=spec["email"],
            role=spec["role"],
            first_name=spec["first_name"],
            last_name=spec["last_name"],
            phone=spec.get("phone"),
            status=UserStatus.SUSPENDED.value if spec.get("suspended") else UserStatus.ACTIVE.value,
            password_hash=passwords.hash,
            created_at=spec.get("created_at", created_at),
        )
        db.session.add(existing[spec["email"]])
        created += 1
    return existing, created


def _users(founded, passwords, report, today):
    """Office accounts by role and students by email."""
    by_email, created_office = _get_or_create_users(data.OFFICE_ACCOUNTS, passwords, founded)
    office = {spec["role"]: by_email[spec["email"]] for spec in data.OFFICE_ACCOUNTS}
    history_start = add_months(today, -data.HISTORY_MONTHS)
    first_signup = local_instant(history_start - timedelta(days=20), time(19))
    student_specs = [
        # Sign-ups spread over the first year of the history; the demo student is the oldest.
        dict(p, role=Role.STUDENT.value, created_at=first_signup + timedelta(days=9 * i))
        for i, p in enumerate(data.student_profiles())
    ]
    students, created_students = _get_or_create_users(student_specs, passwords, founded)
    report.count("comptes", created_office + created_students)
    return office, students


def _tutors(founded, passwords, report):
    """The eight demo tutors in priority order, each with a tutor account."""
    specs = [
        {
            "email": data.tutor_email(t),
            "role": Role.TUTOR.value,
            "first_name": t["first_name"],
            "last_name": t["last_name"],
            "phone": t["phone"],
        }
        for t in data.TUTORS
    ]
    users, created_users = _get_or_create_users(specs, passwords, founded)
    db.session.flush()
    user_ids = [u.id for u in users.values()]
    query = select(Tutor).where(Tutor.user_id.in_(user_ids))
    existing = {t.user_id: t for t in db.session.scalars(query)}
    tutors, created = [], 0
    for spec, profile in zip(specs, data.TUTORS, strict=True):
        user = users[spec["email"]]
        tutor = existing.get(user.id)
        if tutor is None:
            tutor = Tutor(
                user=user,
                display_name=f"{profile['first_name']} {profile['last_name']}",
                bio=profile["bio"],
                contact_email=spec["email"],
                phone=profile["phone"],
                hourly_rate_cents=profile["hourly_rate_cents"],
                priority=profile["priority"],
                created_at=founded,
            )
            db.session.add(tutor)
            created += 1
        tutors.append(tutor)
    report.count("comptes", created_users)
    report.count("tuteurs", created)
    db.session.flush()
    return tutors


def _assignments(tutors, courses, founded, report):
    """Which tutor teaches which course (2 to 5 tutors per course)."""
    ids = [t.id for t in tutors]
    existing = set(
        db.session.execute(select(TutorCourse.tutor_id, TutorCourse.course_id).where(TutorCourse.tutor_id.in_(ids)))
    )
    missing = [
        TutorCourse(tutor_id=tutor.id, course_id=courses[slug].id, created_at=founded)
        for tutor, profile in zip(tutors, data.TUTORS, strict=True)
        for slug in profile["courses"]
        if (tutor.id, courses[slug].id) not in existing
    ]
    db.session.add_all(missing)
    report.count("affectations", len(missing))


def _parse_time(text):
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _availability(rng, tutors, today, founded, report):
    """Weekly rules, coming exceptions and time off, for tutors who have no rule yet."""
    ids = [t.id for t in tutors]
    query = select(WeeklyRule.tutor_id).where(WeeklyRule.tutor_id.in_(ids))
    with_rules = set(db.session.scalars(query))
    rows = []
    for index, (tutor, profile) in enumerate(zip(tutors, data.TUTORS, strict=True)):
        if tutor.id in with_rules:
            continue
        rules = [(day, _parse_time(s), _parse_time(e)) for day, s, e in profile["rules"]]
        rows += [
            WeeklyRule(tutor_id=tutor.id, weekday=d, start_time=s, end_time=e, created_at=founded) for d, s, e in rules
        ]
        rows += _exceptions(rng, tutor, rules, today)
        rows += _time_off(tutor, index, today)
    db.session.add_all(rows)
    report.count("disponibilités", len(rows))


def _next_day(start, wanted):
    """The first date from `start` that satisfies `wanted(date)`."""
    day = start
    while not wanted(day):
        day += timedelta(days=1)
    return day


def _exceptions(rng, tutor, rules, today):
    """A closed day, closed hours and extra opening hours in the coming weeks."""
    workdays = {day for day, _, _ in rules}

    def works(day):
        return day.weekday() in workdays

    closed_day = _next_day(today + timedelta(days=rng.randint(6, 12)), works)
    partial_day = _next_day(today + timedelta(days=rng.randint(14, 20)), works)
    _, opens, closes = min(r for r in rules if r[0] == partial_day.weekday())
    partial_end = min(closes, time(opens.hour + 2, opens.minute))
    open_day = _next_day(today + timedelta(days=rng.randint(3, 10)), lambda d: not works(d))
    notes = data.EXCEPTION_NOTES
    return [
        AvailabilityException(
            tutor_id=tutor.id, date=closed_day, kind=ExceptionKind.CLOSED.value, note=notes["closed_day"]
        ),
        AvailabilityException(
            tutor_id=tutor.id,
            date=partial_day,
            kind=ExceptionKind.CLOSED.value,
            start_time=opens,
            end_time=partial_end,
            note=notes["closed_hours"],
        ),
        AvailabilityException(
            tutor_id=tutor.id,
            date=open_day,
            kind=ExceptionKind.OPEN.value,
            start_time=time(10),
            end_time=time(13),
            note=notes["open"],
        ),
    ]


def _time_off(tutor, index, today):
    """A past vacation for everyone; a coming absence for every other tutor."""
    past_start = today - timedelta(days=70 + 23 * index)
    periods = [(past_start, past_start + timedelta(days=7), data.PAST_TIME_OFF_REASON)]
    if index % 2 == 0:
        start = today + timedelta(days=26 + 2 * index)
        reason = data.COMING_TIME_OFF_REASONS[index // 2 % 2]
        periods.append((start, start + timedelta(days=3), reason))
    return [
        TimeOff(
            tutor_id=tutor.id, starts_at=local_day_bounds(first)[0], ends_at=local_day_bounds(last)[0], reason=reason
        )
        for first, last, reason in periods
    ]


def _coupons(today, founded, report):
    """Coupons by code: percent and fixed, expired, limited, not yet valid, inactive."""
    codes = [c["code"] for c in data.COUPONS]
    existing = {c.code: c for c in db.session.scalars(select(Coupon).where(Coupon.code.in_(codes)))}

    def day_start(offset):
        return None if offset is None else local_day_bounds(today + timedelta(days=offset))[0]

    missing = [
        Coupon(
            code=c["code"],
            kind=c["kind"],
            value=c["value"],
            description=c["description"],
            starts_at=day_start(c["starts"]),
            ends_at=day_start(c["ends"]),
            max_redemptions=c["max"],
            first_order_only=c.get("first_order_only", False),
            active=c["active"],
            created_at=founded,
        )
        for c in data.COUPONS
        if c["code"] not in existing
    ]
    db.session.add_all(missing)
    report.count("coupons", len(missing))
    return existing | {c.code: c for c in missing}


def _attendance_policy(founded, report):
    """The default attendance policy, when the database has none (the migration writes it; `create_all` does not)."""
    if db.session.scalar(select(AttendancePolicy.id).limit(1)) is None:
        db.session.add(AttendancePolicy(**DEFAULT_POLICY, created_at=founded))
        report.count("politique de présence", 1)


def _course_request(now, tutor, courses):
    """The demo tutor's pending request to teach one more course, unless she has asked for something already."""
    if db.session.scalar(select(CourseRequest.id).where(CourseRequest.tutor_id == tutor.id).limit(1)) is not None:
        return 0
    spec = data.DEMO_COURSE_REQUEST
    course = courses[spec["course"]]
    if course in tutor.courses:
        return 0
    # An evening, in local time, a few days ago.
    at = min(local_instant(now.astimezone(LOCAL_TZ).date() - timedelta(days=spec["days_ago"]), time(20, 15)), now)
    course_requests.request_course(tutor, course.id, spec["message"], at)
    return 1


def _has_history(students):
    """Whether any demo student has an order already."""
    ids = [s.id for s in students]
    return db.session.scalar(select(Order.id).where(Order.user_id.in_(ids)).limit(1)) is not None


def _demo_accounts(office, tutors, students, passwords):
    """One account per role, checked against the demo password (an existing one is left alone)."""
    users = list(office.values())
    users += [tutors[0].user, students[data.DEMO_STUDENT["email"]]]
    return [DemoAccount(u.role, u.email, _has_password(u, passwords)) for u in users]


def _has_password(user, passwords):
    # Accounts made by this run carry the hash just computed: no need to verify them again.
    if passwords.computed and user.password_hash == passwords.hash:
        return True
    return user.check_password(data.DEMO_PASSWORD)
