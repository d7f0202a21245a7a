"""When the demo sessions take place: a plan of orders over about 18 months and the coming weeks.

Sessions start on the 30-minute grid of local time, inside the tutors' weekly hours
as stored, outside their time off, closed days and already locked cells, and never
overlap for a tutor or for a student. Busy months follow the school year.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, time, timedelta

from sqlalchemy import select

from ..extensions import db
from ..localtime import LOCAL_TZ, add_months, local_day_bounds, local_instant
from ..models import AvailabilityException, ExceptionKind, SlotLock, TimeOff, WeeklyRule
from ..occupancy import CELL, cells
from . import data

RANK_WEIGHTS = (5, 3, 2, 1.5, 1)


@dataclass
class PlannedSession:
    tutor: object
    course: object
    starts_at: object
    duration: int

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration)


@dataclass
class PlannedOrder:
    student: object
    profile: dict
    paid_at: object
    sessions: list = field(default_factory=list)


class Agenda:
    """Occupied 30-minute cells per tutor and per student, so that demo sessions never overlap."""

    def __init__(self):
        self._taken = defaultdict(set)

    def block(self, owner, starts_at, ends_at):
        start = _grid_floor(starts_at)
        while start < ends_at:
            self._taken[owner].add(start)
            start += CELL

    def is_free(self, owners, starts_at, ends_at):
        wanted = list(cells(starts_at, ends_at))
        return not any(cell in self._taken[owner] for owner in owners for cell in wanted)

    def take(self, owners, starts_at, ends_at):
        for owner in owners:
            self._taken[owner].update(cells(starts_at, ends_at))


def _grid_floor(moment):
    moment = moment.astimezone(UTC)
    return moment.replace(minute=moment.minute - moment.minute % 30, second=0, microsecond=0)


def weighted(rng, weights):
    """A key of `weights` (dict: key -> weight), drawn with `rng`."""
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


class Scheduler:
    """Plans demo orders (who, which course and tutor, when) relative to `now`."""

    def __init__(self, rng, now, *, courses, tutors, students, profiles):
        self.rng = rng
        self.now = now
        self.today = now.astimezone(LOCAL_TZ).date()
        self.courses = courses
        self.students = students
        self.profiles = profiles
        self.tutors = tutors
        self.agenda = Agenda()
        self.rules = defaultdict(lambda: defaultdict(list))
        self.course_tutors = {
            slug: sorted(
                (t for t, p in zip(tutors, data.TUTORS, strict=True) if slug in p["courses"]),
                key=lambda t: (t.priority, t.id),
            )
            for slug in courses
        }
        self.preferences = {}

    def load_calendars(self):
        """Working hours from the database; time off, closed days and existing locks are taken."""
        ids = [t.id for t in self.tutors]
        # Ordered, so that the same data gives the same plan on every database.
        rules = (
            select(WeeklyRule)
            .where(WeeklyRule.tutor_id.in_(ids))
            .order_by(WeeklyRule.tutor_id, WeeklyRule.weekday, WeeklyRule.start_time)
        )
        for row in db.session.scalars(rules):
            self.rules[row.tutor_id][row.weekday].append((row.start_time, row.end_time))
        for row in db.session.scalars(select(TimeOff).where(TimeOff.tutor_id.in_(ids))):
            self.agenda.block(("tutor", row.tutor_id), row.starts_at, row.ends_at)
        closed = select(AvailabilityException).where(
            AvailabilityException.tutor_id.in_(ids),
            AvailabilityException.kind == ExceptionKind.CLOSED.value,
        )
        for row in db.session.scalars(closed):
            day_start, day_end = local_day_bounds(row.date)
            start = local_instant(row.date, row.start_time) if row.start_time else day_start
            end = local_instant(row.date, row.end_time) if row.end_time else day_end
            self.agenda.block(("tutor", row.tutor_id), start, end)
        locks = select(SlotLock.tutor_id, SlotLock.cell_start).where(SlotLock.tutor_id.in_(ids))
        for tutor_id, cell in db.session.execute(locks):
            self.agenda.block(("tutor", tutor_id), cell, cell + CELL)

    def plan(self):
        """Orders by payment time: past months by seasonality and growth, then coming weeks."""
        plans = []
        month = add_months(self.today, -data.HISTORY_MONTHS)
        for index in range(data.HISTORY_MONTHS + 1):
            next_month = add_months(month, 1)
            last_day = min(next_month - timedelta(days=1), self.today - timedelta(days=1))
            days = (last_day - month).days + 1
            if days > 0:
                expected = (
                    data.BASE_MONTHLY_ORDERS
                    * data.SEASONALITY[month.month]
                    * data.MONTHLY_GROWTH**index
                    * days
                    / (next_month - month).days
                )
                for _ in range(round(expected)):
                    plans.append(self._plan_order(month + timedelta(days=self.rng.randrange(days))))
            month = next_month
        for _ in range(data.FUTURE_ORDERS):
            day = self.today + timedelta(days=self.rng.randint(1, data.FUTURE_DAYS))
            plans.append(self._plan_order(day))
        # The demo account always has sessions it can still cancel and move online (more than 24 h ahead),
        # with the demo tutor, so that both demo accounts share a coming session (and its conversation).
        plans.append(self._plan_order(self.today + timedelta(days=3), student_index=0, tutor=self.tutors[0]))
        # The demo tutor has just taught (sessions still waiting for her attendance mark) and, on a day she
        # works, teaches today: her home has something in each block.
        for days_ago in (1, 2):
            plans.append(self._plan_order(self.today - timedelta(days=days_ago), tutor=self.tutors[0]))
        plans.append(self._plan_order(self.today, tutor=self.tutors[0]))
        plans = [p for p in plans if p is not None]
        plans.sort(key=lambda p: p.paid_at)
        return plans

    def _plan_order(self, day, student_index=None, tutor=None):
        """One order: a student (drawn, or `student_index`), a course, a tutor (drawn, or `tutor`),
        weekly sessions from `day` (today only when asked for: its session may be over, under way or to come);
        or None."""
        future = day >= self.today
        on_today = day == self.today
        reference = self.now if future else local_instant(day, time(0))
        signed_up_before = reference - timedelta(days=12)
        eligible = {
            i: 4 if i == 0 else (2 if i % 5 == 0 else 1)
            for i, student in enumerate(self.students)
            if student.created_at < signed_up_before
        }
        if not eligible or (student_index is not None and student_index not in eligible):
            return None
        index = weighted(self.rng, eligible) if student_index is None else student_index
        student, profile = self.students[index], self.profiles[index]
        slug, drawn = self._course_and_tutor(index)
        if tutor is None:
            tutor = drawn
        elif tutor not in self.course_tutors[slug]:
            # The tutor's most popular course instead.
            taught = [s for s, tutors in self.course_tutors.items() if tutor in tutors]
            slug = max(taught, key=lambda s: (data.COURSE_POPULARITY[s], s))
        duration = weighted(self.rng, data.DURATIONS)
        plan = PlannedOrder(student, profile, paid_at=None)
        for week in range(weighted(self.rng, data.ITEMS_PER_ORDER)):
            session_day = day + timedelta(days=7 * week)
            if (session_day == self.today and not on_today) or session_day > self.today + timedelta(days=50):
                continue
            tries = (0, 1, 2, -1, 3) if week == 0 and not on_today else (0,)
            for shift in tries:
                candidate = session_day + timedelta(days=shift)
                # Never today unless asked, and never moved across today (past stays past, future stays future).
                crosses_today = (candidate > self.today) != (session_day > self.today)
                if (candidate == self.today and not on_today) or crosses_today:
                    continue
                start = self._find_start(tutor, student, candidate, duration)
                if start is not None:
                    plan.sessions.append(PlannedSession(tutor, self.courses[slug], start, duration))
                    break
        if not plan.sessions:
            return None
        first = plan.sessions[0].starts_at
        if future:
            paid_at = min(self.now - timedelta(minutes=self.rng.randint(60, 10 * 24 * 60)), first - timedelta(hours=12))
        else:
            paid_at = first - timedelta(minutes=self.rng.randint(24 * 60, 10 * 24 * 60))
        plan.paid_at = paid_at.replace(second=self.rng.randint(0, 59), microsecond=0)
        return plan

    def _course_and_tutor(self, student_index):
        """The student's usual course and tutor most of the time, something else sometimes."""
        if student_index not in self.preferences:
            favourites = {weighted(self.rng, data.COURSE_POPULARITY) for _ in range(2)}
            self.preferences[student_index] = dict.fromkeys(sorted(favourites))
        usual = self.preferences[student_index]
        slug = self.rng.choice(list(usual)) if self.rng.random() < 0.85 else weighted(self.rng, data.COURSE_POPULARITY)
        ranked = self.course_tutors[slug]
        by_rank = {t: RANK_WEIGHTS[min(i, len(RANK_WEIGHTS) - 1)] for i, t in enumerate(ranked)}
        if slug in usual and usual[slug] is None:
            usual[slug] = weighted(self.rng, by_rank)
        tutor = usual.get(slug)
        if tutor is None or self.rng.random() >= 0.6:
            tutor = weighted(self.rng, by_rank)
        return slug, tutor

    def _find_start(self, tutor, student, day, duration):
        """A free start on the 30-minute grid inside the tutor's hours of that weekday, or None."""
        starts = []
        for start, end in self.rules[tutor.id].get(day.weekday(), ()):
            first = -(-(start.hour * 60 + start.minute) // 30) * 30
            starts += range(first, end.hour * 60 + end.minute - duration + 1, 30)
        self.rng.shuffle(starts)
        owners = (("tutor", tutor.id), ("student", student.id))
        for minutes in starts:
            begins = local_instant(day, time(minutes // 60, minutes % 60))
            ends = begins + timedelta(minutes=duration)
            if self.agenda.is_free(owners, begins, ends):
                self.agenda.take(owners, begins, ends)
                return begins
        return None
