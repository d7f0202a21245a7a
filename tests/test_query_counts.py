"""Every page costs a fixed number of SQL statements, whatever the number of rows it lists.

Each role's pages are measured on a small world (one unit of everything), then on the same
world grown to four units (more tutors, courses, orders, sessions, messages, tickets, ratings,
refunds, statements, ...): the counts must not move, and the grown pages must show the new rows.
"""

from dataclasses import dataclass, field
from datetime import date, time, timedelta

import pytest
from flask import current_app, url_for

from tutoradmin import credits
from tutoradmin.localtime import LOCAL_TZ, local_instant
from tutoradmin.models import (
    AppointmentChange,
    AuditLog,
    AvailabilityException,
    CourseRequest,
    CreditKind,
    MeetingLink,
    OutboxEvent,
    Rating,
    Refund,
    RefundItem,
    Role,
    SessionMessage,
    Ticket,
    TicketMessage,
    TimeOff,
    TutorPayout,
)

from .factories import DEFAULT_PASSWORD
from .query_counts import page_statements
from .shopping import Offer, fill, new_cart

SMALL, BIG = 1, 4


@dataclass
class World:
    """The rows the pages show; `grow` adds one unit, tagged « unité <n> » in every text it writes."""

    db: object
    make: object
    now: object
    course: object = None
    tutor: object = None
    student: object = None
    staff: object = None
    order: object = None
    session: object = None
    past_session: object = None
    ticket: object = None
    cart: object = None
    units: int = 0
    offer: object = None
    extra: dict = field(default_factory=dict)

    def setup(self):
        make, now = self.make, self.now
        self.course = make.course(title="Chimie générale", slug="chimie")
        self.tutor = make.tutor(courses=[self.course], display_name="Marie Curie", priority=1)
        for weekday in range(7):
            make.weekly_rule(self.tutor, weekday=weekday, start=time(8), end=time(20))
        self.student = make.user(first_name="Léa", last_name="Tremblay", email="lea@example.com")
        self.staff = make.user(role=Role.STAFF, first_name="Paul", last_name="Bureau")
        self.order = make.booked_order(
            user=self.student, course=self.course, tutor=self.tutor, items=1, first_start=self._start(3, 10)
        )
        self.session = self.order.items[0].appointment
        past = make.booked_order(
            user=self.student, course=self.course, tutor=self.tutor, items=1, first_start=self._start(-20, 10)
        )
        self.past_session = make.complete(past.items[0].appointment)
        self.ticket = Ticket(student=self.student, subject="Lien manquant", order_id=self.order.id)
        self.db.session.add(self.ticket)
        self.db.session.flush()
        self.cart = new_cart(self.db, user=self.student)
        self.offer = Offer(self.course, [self.tutor], (now.astimezone(LOCAL_TZ) + timedelta(days=30)).date())

    def _start(self, days, hour):
        day = self.now.astimezone(LOCAL_TZ).date() + timedelta(days=days)
        return local_instant(day, time(hour))

    def grow(self, count):
        """Add units until there are `count` of them."""
        while self.units < count:
            self.units += 1
            self._unit(self.units)
        self.db.session.commit()

    def _unit(self, n):
        make, db, now, tag = self.make, self.db, self.now, f"unité {n}"
        add = db.session.add
        course = make.course(title=f"Cours {tag}", slug=f"cours-u{n}")
        tutor = make.tutor(courses=[course, self.course], display_name=f"Tuteur {tag}", priority=10 + n)
        for weekday in range(7):
            make.weekly_rule(tutor, weekday=weekday, start=time(9), end=time(17))
        make.coupon(code=f"CODEUNITE{n}")
        other = make.user(first_name="Élève", last_name=f"Élève{tag}")
        make.booked_order(user=other, course=course, tutor=tutor, items=2, first_start=self._start(5 + n, 9))
        # The student: an upcoming paid session, and one completed and rated.
        upcoming = make.booked_order(
            user=self.student, course=course, tutor=self.tutor, items=1, first_start=self._start(3 + n, 14)
        )
        session = upcoming.items[0].appointment
        self.extra["order"] = upcoming.id
        add(MeetingLink(appointment=session, provider="zoom", url=f"https://zoom.us/j/{1000 + n}", created_at=now))
        past = make.booked_order(
            user=self.student, course=course, tutor=self.tutor, items=1, first_start=self._start(-20 - n, 14)
        )
        done = make.complete(past.items[0].appointment)
        db.session.flush()
        add(Rating(appointment_id=done.id, student_id=self.student.id, score=4, comment=f"Avis {tag}"))
        # A refund of part of the main order, item by item.
        refund = Refund(
            order_id=self.order.id,
            amount_cents=100 + n,
            reason=f"Motif {tag}",
            status="succeeded",
            idempotency_key=f"refund-{tag}",
            processed_at=now,
        )
        refund.items.append(
            RefundItem(order_item_id=self.order.items[0].id, amount_cents=100 + n, cancels_appointment=False)
        )
        add(refund)
        # The main session's history, by a different person each time.
        add(
            AppointmentChange(
                appointment_id=self.session.id,
                actor_id=tutor.user_id,
                kind="rescheduled",
                previous_starts_at=self.session.starts_at,
                new_starts_at=self.session.starts_at,
                reason=f"Imprévu {tag}",
            )
        )
        # Messages on the main session, from both sides; a ticket with its messages; credit.
        add(SessionMessage(appointment=self.session, author_id=self.student.id, body=f"Question {tag}"))
        add(SessionMessage(appointment=self.session, author_id=self.tutor.user_id, body=f"Réponse {tag}"))
        add(SessionMessage(appointment=session, author_id=self.tutor.user_id, body=f"Bonjour {tag}"))
        add(TicketMessage(ticket=self.ticket, author_id=self.student.id, body=f"Relance {tag}"))
        add(TicketMessage(ticket=self.ticket, author_id=self.staff.id, body=f"Suivi {tag}"))
        ticket = Ticket(student=self.student, subject=f"Sujet {tag}", appointment_id=session.id)
        add(ticket)
        add(TicketMessage(ticket=ticket, author_id=self.student.id, body=f"Détail {tag}"))
        credits.add_entry(self.student.id, CreditKind.CREDIT, 500, f"Geste {tag}", now)
        # The tutors' side: time off, exceptions, statements, course requests.
        day = date(2030, 1, 1) + timedelta(days=n)
        add(AvailabilityException(tutor=self.tutor, date=day, kind="closed", note=f"Fermé {tag}"))
        add(AvailabilityException(tutor=tutor, date=day, kind="closed"))
        off = local_instant(day + timedelta(days=60), time(0))
        add(TimeOff(tutor=self.tutor, starts_at=off, ends_at=off + timedelta(days=1), reason=f"Congé {tag}"))
        add(TimeOff(tutor=tutor, starts_at=off, ends_at=off + timedelta(days=1), reason=f"Congé {tag}"))
        for who, year in ((self.tutor, 2020 + n), (tutor, 2024)):
            add(TutorPayout(tutor=who, year=year, month=n, minutes=60, earnings_cents=2500 + n, amount_cents=2500 + n))
        add(CourseRequest(tutor=self.tutor, course=course, message=f"Demande {tag}"))
        add(CourseRequest(tutor=tutor, course=self.course, message=f"Demande {tag}"))
        # The office's journals.
        add(
            AuditLog(
                action="tutor.rate_changed",
                target_type="tutors",
                target_id=tutor.id,
                before={"rate": 2500},
                after={"rate": f"Taux {tag}"},
            )
        )
        add(OutboxEvent(event_type="signup", payload={"n": n}, status="failed", attempts=3, last_error=f"Err {tag}"))
        db.session.flush()
        # The student's cart: one more held session, with another tutor.
        fill(self.cart, self.offer, 9 + n, now=now, tutor=tutor)


@pytest.fixture
def world(db, make, now):
    """The small world: one unit of everything, committed."""
    built = World(db, make, now)
    built.setup()
    built.grow(SMALL)
    return built


def _marker(world):
    """The text only the last unit wrote (no random token, such as a CSRF one, can hold it)."""
    return f"unité {world.units}"


def _refund_marker(world):
    """The amount of the last unit's refund, as pages show it."""
    return f"{(100 + world.units) / 100:.2f}".replace(".", ",")


# Each role's pages: (URL, a text the grown page shows and the small one does not, or None).


def public_pages(w):
    slug = w.course.slug
    day = w.offer.day.isoformat()
    return [
        ("/", None),
        ("/cours", _marker(w)),
        (f"/cours/{slug}", None),
        (f"/cours/{slug}/reservation", _marker(w)),
        (f"/api/cours/{slug}/creneaux?date={day}&duree=60", None),
        (f"/api/cours/{slug}/disponibilites?mois={day[:7]}&duree=60", None),
        ("/connexion", None),
        ("/inscription", None),
        ("/mot-de-passe-oublie", None),
    ]


def student_pages(w):
    session, order, ticket = w.session.id, w.order.id, w.ticket.id
    return [
        ("/tableau-de-bord", _marker(w)),
        (f"/tableau-de-bord/seances/{session}", _marker(w)),
        (f"/tableau-de-bord/seances/{session}/messages", _marker(w)),
        (f"/tableau-de-bord/seances/{session}/deplacer", None),
        (f"/tableau-de-bord/seances/{w.past_session.id}", None),
        ("/tableau-de-bord/commandes", f'/tableau-de-bord/commandes/{w.extra["order"]}"'),
        (f"/tableau-de-bord/commandes/{order}", _refund_marker(w)),
        (f"/tableau-de-bord/commandes/{order}/recu", None),
        ("/tableau-de-bord/credits", _marker(w)),
        ("/tableau-de-bord/billets", _marker(w)),
        (f"/tableau-de-bord/billets/{ticket}", _marker(w)),
        ("/tableau-de-bord/billets/nouveau", None),
        ("/tableau-de-bord/profil", None),
        ("/tableau-de-bord/mot-de-passe", None),
        ("/panier", None),
        ("/checkout", None),
    ]


def admin_lists(role):
    """Every back-office view `role` may open, by endpoint: its landing page."""
    admin = current_app.extensions["admin"][0]
    pages = {}
    for view in admin._views:
        if role in getattr(view, "allowed_roles", ()):
            pages[view.endpoint] = url_for(f"{view.endpoint}.{view._default_view}")
    return pages


def office_pages(w):
    """The office's pages of one record, beside its lists."""
    return [
        (url_for("orders.details_view", id=w.order.id), _refund_marker(w)),
        (url_for("tickets.details_view", id=w.ticket.id), None),
        (url_for("tickets.reply", id=w.ticket.id), _marker(w)),
        (url_for("appointments.messages", id=w.session.id), _marker(w)),
        (url_for("students.credit", id=w.student.id), _marker(w)),
        (url_for("refunds.refund_order", order_id=w.order.id), _marker(w)),
        (url_for("performance.courses"), _marker(w)),
    ]


def tutor_pages(w):
    """The tutor's pages beside their lists: a conversation, a month's statement, a year."""
    today = w.now.astimezone(LOCAL_TZ)
    return [
        (url_for("my_appointments.messages", id=w.session.id), _marker(w)),
        (url_for("my_payouts.statement_view", mois=f"{today:%Y-%m}"), _marker(w)),
        (url_for("my_payouts.year", year=today.year), None),
    ]


#: Back-office landing pages that must show the last unit's rows, by role.
LIST_MARKERS = {
    "admin": {
        "courses",
        "tutors",
        "coupons",
        "course_requests",
        "exceptions",
        "time_off",
        "appointments",
        "students",
        "tickets",
        "ratings",
        "outbox",
        "users",
        "audit_log",
    },
    "accountant": {"accounting_refunds"},
    "tutor": {"my_exceptions", "my_time_off", "my_appointments", "my_courses", "my_payouts"},
}


#: Lists whose rows show the last unit by another text than its tag.
LIST_MARKER = {
    "accounting_refunds": _refund_marker,
    "refunds": _refund_marker,
    "my_payouts": lambda w: f"25,0{w.units}",
    "coupons": lambda w: f"CODEUNITE{w.units}",
}


def _login(client, user):
    response = client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD})
    assert response.status_code == 302


def _pages_of(role, w):
    """Every page `role` opens, with its marker (see above)."""
    if role == "guest":
        return public_pages(w)
    if role == "student":
        return student_pages(w)
    marked = LIST_MARKERS.get(role, set())
    pages = [
        (url, LIST_MARKER.get(endpoint, _marker)(w) if endpoint in marked else None)
        for endpoint, url in admin_lists(role).items()
    ]
    if role in ("admin", "staff"):
        pages += office_pages(w)
    if role == "tutor":
        pages += tutor_pages(w)
    return pages


def _user_for(role, w):
    """Whom to log in as: the world's own student, tutor and staff member, or a new account."""
    if role == "student":
        return w.student
    if role == "tutor":
        return w.tutor.user
    if role == "staff":
        return w.staff
    return w.make.user(role=role)


@pytest.mark.parametrize("role", ["guest", "student", "admin", "staff", "accountant", "tutor"])
def test_every_page_costs_the_same_statements_with_four_times_the_rows(client, db, world, role):
    if role != "guest":
        _login(client, _user_for(role, world))
    db.session.commit()
    small = {url: page_statements(client, db, url) for url, _marker_ in _pages_of(role, world)}
    world.grow(BIG)
    grew, missing = [], []
    for url, marker in _pages_of(role, world):
        statements, page = page_statements(client, db, url)
        before, before_page = small[url]
        if len(statements) != len(before):
            grew.append(f"{url}: {len(before)} → {len(statements)}")
        if marker is not None and (marker not in page or marker in before_page):
            missing.append(f"{url}: « {marker} » absent, or already there with one unit")
    assert not grew, "Pages whose statement count grows with the data:\n" + "\n".join(grew)
    assert not missing, "Pages that do not show the added rows:\n" + "\n".join(missing)
