"""Who may open which back-office page, and which rows a tutor can reach; who reads and writes tickets,
session conversations and their files."""

import re
from datetime import date, time, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import func, select

from tutoradmin import messaging, support
from tutoradmin.attachments import Upload
from tutoradmin.demo.files import one_page_pdf
from tutoradmin.localtime import to_local
from tutoradmin.models import (
    Appointment,
    AttendancePolicy,
    AvailabilityException,
    ConversationRead,
    Course,
    CourseRequest,
    Order,
    Refund,
    SessionMessage,
    Ticket,
    TicketMessage,
    TimeOff,
    Tutor,
    TutorPayout,
    WeeklyRule,
    utcnow,
)

from .factories import DEFAULT_PASSWORD

ROLES = ["anonymous", "student", "tutor", "accountant", "staff", "admin"]

OFFICE_URLS = [
    "/admin/cours/",
    "/admin/tuteurs/",
    "/admin/coupons/",
    "/admin/horaires/",
    "/admin/exceptions/",
    "/admin/conges/",
    "/admin/rendez-vous/",
    "/admin/commandes/",
    "/admin/remboursements/",
    "/admin/revenus/",
    "/admin/etudiants/",
    "/admin/paiements-tuteurs/",
    "/admin/billets/",
    "/admin/envois-sortants/",
    "/admin/demandes-de-cours/",
    "/admin/performance/",
    "/admin/evaluations/",
]
ADMIN_ONLY_URLS = ["/admin/utilisateurs/", "/admin/journal/", "/admin/parametres/", "/admin/fin-de-mois/"]
ACCOUNTING_URLS = [
    "/admin/compta/revenus/",
    "/admin/compta/commandes/",
    "/admin/compta/remboursements/",
    "/admin/compta/paiements-tuteurs/",
    "/admin/compta/releves-tuteurs/",
    "/admin/compta/coupons/",
    "/admin/compta/fin-de-mois/",
]
TUTOR_URLS = [
    "/admin/mes-horaires/",
    "/admin/mes-exceptions/",
    "/admin/mes-conges/",
    "/admin/mes-rendez-vous/",
    "/admin/mes-revenus/",
    "/admin/mon-profil/",
    "/admin/mes-cours/",
]
ALL_URLS = OFFICE_URLS + ADMIN_ONLY_URLS + ACCOUNTING_URLS + TUTOR_URLS

OWN_URLS = {
    "anonymous": [],
    "student": [],
    "tutor": TUTOR_URLS,
    "accountant": ACCOUNTING_URLS,
    "staff": OFFICE_URLS,
    "admin": OFFICE_URLS + ADMIN_ONLY_URLS,
}


def _sign_in(role, login_as):
    return None if role == "anonymous" else login_as(role)


def _expected(role, url):
    """Anonymous visitors go to the login page and come back; others get 200 or 403."""
    if role == "anonymous":
        return 302, url
    return (200 if url in OWN_URLS[role] else 403), None


def _outcome(response):
    """The status, and for a redirect to the login page, the page it returns to."""
    if response.status_code != 302:
        return response.status_code, None
    location = urlsplit(response.headers["Location"])
    assert location.path == "/connexion", response.headers["Location"]
    return 302, parse_qs(location.query)["next"][0]


def _menu_links(html):
    return set(re.findall(r'href="(/admin/[^"?#]+/)"', html)) & set(ALL_URLS)


def _row_ids(html):
    """Ids of the rows a list page links to (details, edit)."""
    return {int(i) for i in re.findall(r"[?&;]id=(\d+)", html)}


def _add(db, row):
    db.session.add(row)
    db.session.flush()
    return row


# --- the role × page matrix -------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_opens_exactly_its_own_back_office_lists(client, login_as, role):
    _sign_in(role, login_as)
    outcomes = {url: _outcome(client.get(url)) for url in ALL_URLS}
    assert outcomes == {url: _expected(role, url) for url in ALL_URLS}


@pytest.mark.parametrize(
    "role, expected",
    [
        ("anonymous", (302, "/admin/")),
        ("student", (403, None)),
        ("tutor", (200, None)),
        ("accountant", (200, None)),
        ("staff", (200, None)),
        ("admin", (200, None)),
    ],
)
def test_the_back_office_home_admits_back_office_roles_only(client, login_as, role, expected):
    _sign_in(role, login_as)
    assert _outcome(client.get("/admin/")) == expected


@pytest.mark.parametrize("role", ["tutor", "accountant", "staff", "admin"])
def test_each_role_sees_its_own_menu_and_nothing_else(client, login_as, role):
    _sign_in(role, login_as)
    html = client.get("/admin/").get_data(as_text=True)
    assert _menu_links(html) == set(OWN_URLS[role])


@pytest.mark.parametrize(
    "url",
    [
        "/admin/utilisateurs/",
        "/admin/utilisateurs/new/",
        "/admin/journal/",
        "/admin/journal/details/?id=1",
    ],
)
def test_staff_cannot_open_administrator_pages(client, login_as, url):
    login_as("staff")
    assert client.get(url).status_code == 403


def test_a_suspended_account_is_treated_as_anonymous_on_its_next_request(client, db, login_as):
    user = login_as("staff")
    db.session.commit()
    assert client.get("/admin/cours/").status_code == 200
    user.status = "suspended"
    db.session.commit()
    assert _outcome(client.get("/admin/cours/")) == (302, "/admin/cours/")


# --- a tutor's own rows -----------------------------------------------------------------


def _exception(db, make, tutor):
    return _add(db, AvailabilityException(tutor=tutor, date=date(2030, 1, 7), kind="closed"))


def _time_off(db, make, tutor):
    start = utcnow() + timedelta(days=10)
    return _add(db, TimeOff(tutor=tutor, starts_at=start, ends_at=start + timedelta(days=2)))


def _payout(db, make, tutor):
    statement = TutorPayout(tutor=tutor, year=2030, month=1, minutes=120, earnings_cents=5000, amount_cents=5000)
    return _add(db, statement)


ROW_KINDS = {
    "/admin/mes-horaires/": lambda db, make, tutor: make.weekly_rule(tutor),
    "/admin/mes-exceptions/": _exception,
    "/admin/mes-conges/": _time_off,
    "/admin/mes-rendez-vous/": lambda db, make, tutor: make.appointment(tutor=tutor),
    "/admin/mes-revenus/": _payout,
    "/admin/mon-profil/": lambda db, make, tutor: tutor,
}
# A page that offers no editing (or deleting) refuses it with 403 whatever the id;
# the others hide another tutor's rows with 404.
DELETABLE = {"/admin/mes-horaires/", "/admin/mes-exceptions/", "/admin/mes-conges/"}
EDITABLE = DELETABLE | {"/admin/mon-profil/"}


@pytest.fixture
def two_tutors(make, login, db):
    """The signed-in tutor and a colleague."""
    me, other = make.tutor(), make.tutor()
    db.session.commit()
    login(me.user)
    return me, other


@pytest.mark.parametrize("url", list(ROW_KINDS))
def test_a_tutor_list_shows_only_their_own_rows(client, make, db, two_tutors, url):
    me, other = two_tutors
    mine = ROW_KINDS[url](db, make, me)
    ROW_KINDS[url](db, make, other)
    db.session.commit()
    html = client.get(url).get_data(as_text=True)
    assert _row_ids(html) == {mine.id}


@pytest.mark.parametrize("url", list(ROW_KINDS))
def test_a_tutor_cannot_open_or_delete_another_tutors_row_by_id(client, make, db, two_tutors, url):
    _, other = two_tutors
    theirs = ROW_KINDS[url](db, make, other)
    db.session.commit()
    model, row_id = type(theirs), theirs.id
    edit = 404 if url in EDITABLE else 403
    delete = 404 if url in DELETABLE else 403
    tampering = {"bio": "piraté", "note": "piraté", "weekday": "3"}
    assert client.get(f"{url}details/?id={row_id}").status_code == 404
    assert client.get(f"{url}edit/?id={row_id}").status_code == edit
    assert client.post(f"{url}edit/?id={row_id}", data=tampering).status_code == edit
    assert client.post(f"{url}delete/", data={"id": row_id}).status_code == delete
    db.session.expire_all()
    row = db.session.get(model, row_id)
    assert row is not None
    assert "piraté" not in (getattr(row, "bio", ""), getattr(row, "note", ""))


def test_a_tutor_weekly_rule_always_belongs_to_that_tutor(client, db, two_tutors):
    me, other = two_tutors
    form_page = client.get("/admin/mes-horaires/new/").get_data(as_text=True)
    assert 'name="tutor"' not in form_page and 'name="tutor_id"' not in form_page
    data = {
        "tutor": other.id,
        "tutor_id": other.id,
        "weekday": "2",
        "start_time": "10:00",
        "end_time": "12:00",
    }
    assert client.post("/admin/mes-horaires/new/", data=data).status_code == 302
    rules = db.session.query(WeeklyRule).all()
    assert [(r.tutor_id, r.weekday, r.start_time, r.end_time) for r in rules] == [(me.id, 2, time(10), time(12))]


def test_a_tutor_edits_their_profile_but_not_their_rate(client, db, two_tutors):
    me, _ = two_tutors
    rate = me.hourly_rate_cents
    data = {
        "bio": "Doctorante en mathématiques.",
        "contact_email": "moi@example.com",
        "phone": "418-555-0100",
        "hourly_rate_cents": "999,00",
        "priority": "0",
    }
    assert client.post(f"/admin/mon-profil/edit/?id={me.id}", data=data).status_code == 302
    db.session.expire_all()
    tutor = db.session.get(Tutor, me.id)
    assert (tutor.bio, tutor.contact_email, tutor.hourly_rate_cents, tutor.priority) == (
        "Doctorante en mathématiques.",
        "moi@example.com",
        rate,
        10,
    )
    assert client.get("/admin/mon-profil/new/").status_code == 403


def test_a_tutor_never_sees_what_students_paid(client, make, db, two_tutors):
    me, _ = two_tutors
    course = make.course(rate_cents=7777)
    order = make.order(course=course, tutor=me)
    appointment = make.appointment(tutor=me, course=course, order_item=order.items[0])
    db.session.commit()
    pages = [
        client.get("/admin/mes-rendez-vous/").get_data(as_text=True),
        client.get(f"/admin/mes-rendez-vous/details/?id={appointment.id}").get_data(as_text=True),
    ]
    assert all(course.title in page for page in pages)
    assert not any("77,77" in page or "Commande" in page for page in pages)


# --- the accountant changes nothing -----------------------------------------------------


def _accountant_row(db, make, url):
    if url == "/admin/compta/coupons/":
        return make.coupon()
    order = make.order()
    if url == "/admin/compta/remboursements/":
        refund = Refund(order=order, amount_cents=1000, reason="Erreur", idempotency_key="r-1")
        return _add(db, refund)
    return order if url == "/admin/compta/commandes/" else _payout(db, make, order.items[0].tutor)


ACCOUNTING_REPORTS = {"/admin/compta/revenus/", "/admin/compta/releves-tuteurs/", "/admin/compta/fin-de-mois/"}


@pytest.mark.parametrize("url", [u for u in ACCOUNTING_URLS if u not in ACCOUNTING_REPORTS])
def test_the_accountant_cannot_create_edit_or_delete_anything(client, make, db, login_as, url):
    login_as("accountant")
    row = _accountant_row(db, make, url)
    db.session.commit()
    model, row_id = type(row), row.id
    columns = [c.name for c in model.__table__.columns]
    before = {name: getattr(row, name) for name in columns}
    count = db.session.query(model).count()
    changes = {"code": "GRATUIT", "kind": "percent", "value": "100", "status": "refunded"}
    attempts = [
        client.get(f"{url}new/"),
        client.post(f"{url}new/", data=changes),
        client.get(f"{url}edit/?id={row_id}"),
        client.post(f"{url}edit/?id={row_id}", data=changes),
        client.post(f"{url}delete/", data={"id": row_id}),
        client.post(f"{url}action/", data={"action": "delete", "rowid": row_id}),
    ]
    assert [r.status_code for r in attempts] == [403] * len(attempts)
    db.session.expire_all()
    row = db.session.get(model, row_id)
    assert {name: getattr(row, name) for name in columns} == before
    assert db.session.query(model).count() == count


@pytest.mark.parametrize(
    "url",
    [
        "/admin/paiements-tuteurs/payer",
        "/admin/compta/releves-tuteurs/payer",
        "/admin/revenus/",
        "/admin/compta/revenus/",
    ],
)
def test_the_accountant_cannot_post_to_reports_or_mark_a_payout_paid(client, make, db, login_as, url):
    login_as("accountant")
    tutor = make.tutor()
    db.session.commit()
    response = client.post(url, data={"tuteur": tutor.id, "mois": "2020-01", "confirmation": "X", "date": "2020-02-01"})
    assert response.status_code in (403, 404, 405)
    assert db.session.query(TutorPayout).count() == 0


def test_the_accountant_exports_orders_as_csv(client, make, db, login_as):
    login_as("accountant")
    make.order(course=make.course(rate_cents=4550))
    db.session.commit()
    response = client.get("/admin/compta/commandes/export/csv/")
    assert response.status_code == 200
    csv = response.get_data(as_text=True)
    assert "45.50" in csv and "Payée" in csv


def test_staff_cannot_change_orders_from_the_order_list(client, make, db, login_as):
    login_as("staff")
    order = make.order()
    db.session.commit()
    response = client.post(f"/admin/commandes/edit/?id={order.id}", data={"status": "refunded"})
    assert response.status_code == 403
    db.session.expire_all()
    assert db.session.get(Order, order.id).status == "paid"


# --- the office at work -----------------------------------------------------------------


def test_an_administrator_creates_a_course_through_the_form(client, db, login_as):
    login_as("admin")
    data = {
        "title": "Calcul I",
        "slug": " MAT-1000 ",
        "full_name": "MAT 1000 – Calcul I",
        "sigle": "MAT-1000",
        "institution": "Université Laval",
        "description": "",
        "rate_cents": "52,50",
        "active": "y",
    }
    response = client.post("/admin/cours/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    course = db.session.query(Course).filter_by(slug="mat-1000").one()
    assert (course.title, course.rate_cents, course.active) == ("Calcul I", 5250, True)


def test_an_administrator_changes_a_tutors_rate(client, make, db, login_as):
    login_as("admin")
    course = make.course()
    tutor = make.tutor(courses=[course], hourly_rate_cents=2500)
    db.session.commit()
    data = {
        "user": tutor.user_id,
        "display_name": tutor.display_name,
        "hourly_rate_cents": "31,75",
        "priority": "5",
        "courses": [course.id],
        "active": "y",
    }
    response = client.post(f"/admin/tuteurs/edit/?id={tutor.id}", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    db.session.expire_all()
    tutor = db.session.get(Tutor, tutor.id)
    assert (tutor.hourly_rate_cents, tutor.priority) == (3175, 5)
    assert [c.id for c in tutor.courses] == [course.id]


def test_courses_have_no_delete_button_and_refuse_deletion(client, make, db, login_as):
    login_as("staff")
    course = make.course()
    db.session.commit()
    assert "/admin/cours/delete/" not in client.get("/admin/cours/").get_data(as_text=True)
    assert client.post("/admin/cours/delete/", data={"id": course.id}).status_code == 403
    assert db.session.get(Course, course.id) is not None


MODEL_LISTS = [
    u
    for u in OFFICE_URLS + ADMIN_ONLY_URLS + ACCOUNTING_URLS + TUTOR_URLS
    if u
    not in ACCOUNTING_REPORTS
    | {"/admin/revenus/", "/admin/paiements-tuteurs/", "/admin/parametres/", "/admin/mes-cours/"}
    | {"/admin/performance/", "/admin/evaluations/"}
    | {"/admin/fin-de-mois/"}
]


@pytest.mark.parametrize("role", ["anonymous", "student", "tutor", "accountant", "staff"])
def test_record_pages_refuse_the_roles_their_list_refuses(client, login_as, role):
    _sign_in(role, login_as)
    refused = [url for url in MODEL_LISTS if url not in OWN_URLS[role]]
    outcomes = {
        f"{url}{page}": _outcome(client.get(f"{url}{page}"))[0]
        for url in refused
        for page in ("details/?id=1", "edit/?id=1", "new/")
    }
    expected = 302 if role == "anonymous" else 403
    assert outcomes == dict.fromkeys(outcomes, expected)


# --- tickets, session conversations and their files ---------------------------------------------

PDF = one_page_pdf(["Exercices"])
CONVERSATION_URLS = {
    "tickets": "/tableau-de-bord/billets",
    "new ticket": "/tableau-de-bord/billets/nouveau",
    "ticket": "/tableau-de-bord/billets/{ticket}",
    "session messages": "/tableau-de-bord/seances/{appointment}/messages",
    "session file": "/pieces-jointes/{session_file}",
    "ticket file": "/pieces-jointes/{ticket_file}",
    "note file": "/pieces-jointes/{note_file}",
    "tutor conversation": "/admin/mes-rendez-vous/messages/{appointment}",
    "office conversation": "/admin/rendez-vous/messages/{appointment}",
}
# "student" and "tutor" are the session's and the ticket's own; the others have their own rows elsewhere.
CONVERSATION_ACCESS = {
    "anonymous": (302,) * len(CONVERSATION_URLS),
    "student": (200, 200, 200, 200, 200, 200, 404, 403, 403),
    "other student": (200, 200, 404, 404, 404, 404, 404, 403, 403),
    "tutor": (403, 403, 403, 403, 200, 404, 404, 200, 403),
    "other tutor": (403, 403, 403, 403, 404, 404, 404, 404, 403),
    "accountant": (403, 403, 403, 403, 404, 404, 404, 403, 403),
    "staff": (403, 403, 403, 403, 200, 200, 200, 403, 200),
    "admin": (403, 403, 403, 403, 200, 200, 200, 403, 200),
}


@pytest.fixture
def exchanges(db, make, now):
    """Two students with a session each (two tutors) and a ticket each; files on a message, a reply and a note."""
    staff = make.user(role="staff")
    mine, theirs = make.appointment(), make.appointment()
    for appointment in (mine, theirs):
        messaging.send(
            appointment, appointment.student, "Bonjour", now, uploads=[Upload("exercices.pdf", "application/pdf", PDF)]
        )
    tickets = [support.open_ticket(a.student, "paiement", "Reçu", "Bonjour", now) for a in (mine, theirs)]
    reply = support.reply(tickets[0], staff, "Voici", False, now, uploads=[Upload("recu.pdf", "application/pdf", PDF)])
    note = support.reply(
        tickets[0], staff, "À vérifier", True, now, uploads=[Upload("note.pdf", "application/pdf", PDF)]
    )
    db.session.commit()
    [session_message] = messaging.conversation(mine)
    return {
        "appointment": mine,
        "other appointment": theirs,
        "ids": {
            "ticket": tickets[0].id,
            "appointment": mine.id,
            "session_file": session_message.attachments[0].id,
            "ticket_file": reply.attachments[0].id,
            "note_file": note.attachments[0].id,
        },
    }


def _sign_in_for(who, exchanges, login, login_as):
    people = {
        "student": exchanges["appointment"].student,
        "other student": exchanges["other appointment"].student,
        "tutor": exchanges["appointment"].tutor.user,
        "other tutor": exchanges["other appointment"].tutor.user,
    }
    if who in people:
        login(people[who])
    elif who != "anonymous":
        login_as(who)


def _read_marks(db):
    reads = db.session.scalars(select(ConversationRead.last_read_message_id).order_by(ConversationRead.user_id)).all()
    return reads, db.session.scalars(select(Ticket.student_read_message_id).order_by(Ticket.id)).all()


@pytest.mark.parametrize("who", list(CONVERSATION_ACCESS))
def test_tickets_conversations_and_files_open_to_their_participants_and_the_office_only(
    client, db, login, login_as, exchanges, who
):
    _sign_in_for(who, exchanges, login, login_as)
    marks = _read_marks(db)
    urls = {name: url.format(**exchanges["ids"]) for name, url in CONVERSATION_URLS.items()}
    outcomes = {name: _outcome(client.get(url))[0] for name, url in urls.items()}
    assert outcomes == dict(zip(CONVERSATION_URLS, CONVERSATION_ACCESS[who], strict=True))
    db.session.expire_all()
    if who not in ("student", "tutor"):
        # Only the participants' reading is recorded.
        assert _read_marks(db) == marks


CONVERSATION_WRITES = {
    "new ticket": ("/tableau-de-bord/billets/nouveau", {"category": "paiement", "subject": "Aide", "body": "Bonjour"}),
    "ticket reply": ("/tableau-de-bord/billets/{ticket}", {"body": "Merci"}),
    "close ticket": ("/tableau-de-bord/billets/{ticket}/fermer", {}),
    "session message": ("/tableau-de-bord/seances/{appointment}/messages", {"body": "Bonjour"}),
    "tutor message": ("/admin/mes-rendez-vous/messages/{appointment}", {"body": "Bonjour"}),
}
# 302 after a write that succeeded (or, for anonymous visitors, to the login page); the rest write nothing.
CONVERSATION_WRITE_ACCESS = {
    "anonymous": (302, 302, 302, 302, 302),
    "student": (302, 302, 302, 302, 403),
    "other student": (302, 404, 404, 404, 403),
    "tutor": (403, 403, 403, 403, 302),
    "other tutor": (403, 403, 403, 403, 404),
    "accountant": (403, 403, 403, 403, 403),
    "staff": (403, 403, 403, 403, 403),
    "admin": (403, 403, 403, 403, 403),
}
# What the writes that succeed add: tickets, ticket messages, session messages.
CONVERSATION_WRITTEN = {"student": (1, 2, 1), "other student": (1, 1, 0), "tutor": (0, 0, 1)}


def _conversation_rows(db):
    models = (Ticket, TicketMessage, SessionMessage)
    return tuple(db.session.scalar(select(func.count()).select_from(model)) for model in models)


@pytest.mark.parametrize("who", list(CONVERSATION_WRITE_ACCESS))
def test_only_participants_write_on_tickets_and_conversations(client, db, login, login_as, exchanges, who):
    _sign_in_for(who, exchanges, login, login_as)
    before, status = _conversation_rows(db), db.session.get(Ticket, exchanges["ids"]["ticket"]).status
    outcomes = {
        name: client.post(url.format(**exchanges["ids"]), data=data).status_code
        for name, (url, data) in CONVERSATION_WRITES.items()
    }
    assert outcomes == dict(zip(CONVERSATION_WRITES, CONVERSATION_WRITE_ACCESS[who], strict=True))
    db.session.expire_all()
    added = CONVERSATION_WRITTEN.get(who, (0, 0, 0))
    assert _conversation_rows(db) == tuple(b + a for b, a in zip(before, added, strict=True))
    closed = db.session.get(Ticket, exchanges["ids"]["ticket"]).status == "ferme"
    assert status != "ferme" and closed == (who == "student")


# --- the tutor's workday: attendance marks, the policy, course requests, moves, earnings, profile --------------

WORKDAY_URLS = {
    "tutor mark": "/admin/mes-rendez-vous/presence/{ended}",
    "office mark": "/admin/rendez-vous/presence/{ended}",
    "policy": "/admin/parametres/presence",
    "my courses": "/admin/mes-cours/",
    "course requests": "/admin/demandes-de-cours/",
    "approve request": "/admin/demandes-de-cours/accepter/{request}",
    "refuse request": "/admin/demandes-de-cours/refuser/{request}",
    "tutor move": "/admin/mes-rendez-vous/deplacer/{coming}",
    "earnings csv": "/admin/mes-revenus/export.csv",
    "yearly summary": "/admin/mes-revenus/annee/{year}",
    "profile": "/admin/mon-profil/",
    "profile edit": "/admin/mon-profil/edit/?id={tutor_id}",
}
# "tutor" teaches the sessions and made the request; "student" is the sessions' student.
WORKDAY_ACCESS = {
    "anonymous": (302,) * len(WORKDAY_URLS),
    "student": (403,) * len(WORKDAY_URLS),
    "tutor": (200, 403, 403, 200, 403, 403, 403, 200, 200, 200, 200, 200),
    "other tutor": (404, 403, 403, 200, 403, 403, 403, 404, 200, 200, 200, 404),
    "accountant": (403,) * len(WORKDAY_URLS),
    "staff": (403, 200, 403, 403, 200, 200, 200, 403, 403, 403, 403, 403),
    "admin": (403, 200, 200, 403, 200, 200, 200, 403, 403, 403, 403, 403),
}
WORKDAY_WRITES = {
    "tutor mark": ("/admin/mes-rendez-vous/presence/{ended}", {"kind": "no_show", "note": "Absent"}),
    "office mark": ("/admin/rendez-vous/presence/{ended}", {"kind": "late_cancel", "note": "Par téléphone"}),
    "policy": (
        "/admin/parametres/presence",
        {
            "late_cancel_window_hours": "12",
            "late_cancel_credit_percent": "25",
            "no_show_credit_percent": "0",
            "late_cancel_tutor_percent": "50",
            "no_show_tutor_percent": "100",
        },
    ),
    "approve request": ("/admin/demandes-de-cours/accepter/{request}", {"note": ""}),
    "tutor move": ("/admin/mes-rendez-vous/deplacer/{coming}", {"debut": "{moved_to}", "reason": "Congrès"}),
}
# 302 after a write that succeeded (or, for anonymous visitors, to the login page); the rest write nothing.
WORKDAY_WRITE_ACCESS = {
    "anonymous": (302,) * len(WORKDAY_WRITES),
    "student": (403,) * len(WORKDAY_WRITES),
    "tutor": (302, 403, 403, 403, 302),
    "other tutor": (404, 403, 403, 403, 404),
    "accountant": (403,) * len(WORKDAY_WRITES),
    "staff": (403, 302, 403, 302, 403),
    "admin": (403, 302, 302, 302, 403),
}
# Which of (the mark, the policy, the request, the move) each one's writes change.
WORKDAY_WRITTEN = {
    "tutor": (True, False, False, True),
    "staff": (True, False, True, False),
    "admin": (True, True, True, False),
}


@pytest.fixture
def workday(db, make, now):
    """A tutor's session that has ended, one in a week with a free hour after it, and their request for a course."""
    course, other_course = make.course(), make.course()
    tutor = make.tutor(courses=[course])
    for weekday in range(7):
        make.weekly_rule(tutor, weekday=weekday, start=time(0), end=time(23, 30))
    hour = now.replace(minute=0, second=0, microsecond=0)
    ended = make.appointment(tutor=tutor, course=course, starts_at=hour - timedelta(hours=3))
    coming = make.appointment(
        student=ended.student, tutor=tutor, course=course, starts_at=hour + timedelta(days=7, hours=1)
    )
    request = _add(db, CourseRequest(tutor=tutor, course=other_course, message="Bonjour"))
    db.session.commit()
    return {
        "tutor": tutor,
        "student": ended.student,
        "ids": {
            "ended": ended.id,
            "coming": coming.id,
            "request": request.id,
            "tutor_id": tutor.id,
            "year": to_local(now).year,
            "moved_to": to_local(coming.starts_at + timedelta(hours=2)).isoformat(),
        },
    }


def _sign_in_workday(who, workday, login, login_as):
    people = {"student": workday["student"], "tutor": workday["tutor"].user}
    if who in people:
        login(people[who])
    elif who != "anonymous":
        login_as("tutor" if who == "other tutor" else who)


def _workday_state(db, ids):
    db.session.expire_all()
    return (
        db.session.get(Appointment, ids["ended"]).attendance,
        db.session.scalar(select(func.count()).select_from(AttendancePolicy)),
        db.session.get(CourseRequest, ids["request"]).status,
        db.session.get(Appointment, ids["coming"]).starts_at,
    )


@pytest.mark.parametrize("who", list(WORKDAY_ACCESS))
def test_the_workday_pages_open_to_their_own_roles_and_another_tutors_ids_are_not_found(
    client, db, login, login_as, workday, who
):
    _sign_in_workday(who, workday, login, login_as)
    urls = {name: url.format(**workday["ids"]) for name, url in WORKDAY_URLS.items()}
    outcomes = {name: _outcome(client.get(url))[0] for name, url in urls.items()}
    assert outcomes == dict(zip(WORKDAY_URLS, WORKDAY_ACCESS[who], strict=True))


@pytest.mark.parametrize("who", list(WORKDAY_WRITE_ACCESS))
def test_only_their_own_roles_mark_change_the_policy_decide_requests_and_move_sessions(
    client, db, login, login_as, workday, who
):
    _sign_in_workday(who, workday, login, login_as)
    ids = workday["ids"]
    before = _workday_state(db, ids)
    outcomes = {}
    for name, (url, data) in WORKDAY_WRITES.items():
        fields = {key: value.format(**ids) for key, value in data.items()}
        outcomes[name] = client.post(url.format(**ids), data=fields).status_code
    assert outcomes == dict(zip(WORKDAY_WRITES, WORKDAY_WRITE_ACCESS[who], strict=True))
    after = _workday_state(db, ids)
    changed = tuple(b != a for b, a in zip(before, after, strict=True))
    assert changed == WORKDAY_WRITTEN.get(who, (False,) * 4)


def test_earnings_csv_and_yearly_summary_show_the_signed_in_tutors_sessions_only(app, db, make, workday, now):
    tutor = workday["tutor"]
    tutor.hourly_rate_cents = 4321
    ended = db.session.get(Appointment, workday["ids"]["ended"])
    ended.status, ended.completed_at, ended.attendance = "completed", now, "present"
    ended.attendance_marked_at, ended.tutor_share_percent, ended.student_credit_percent = now, 100, 0
    other = make.tutor()
    db.session.commit()
    pages = [
        f"/admin/mes-revenus/export.csv?annee={workday['ids']['year']}",
        f"/admin/mes-revenus/annee/{workday['ids']['year']}",
    ]
    for user, shown in ((tutor.user, True), (other.user, False)):
        client = app.test_client()
        assert client.post("/connexion", data={"email": user.email, "password": DEFAULT_PASSWORD}).status_code == 302
        bodies = [client.get(url).get_data(as_text=True) for url in pages]
        assert ("43.21" in bodies[0], "43,21" in bodies[1]) == (shown, shown)
