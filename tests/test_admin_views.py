"""Back-office pages render real data in French, and their forms store what was typed."""

import json
import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape

import pytest

from tutoradmin.localtime import LOCAL_TZ
from tutoradmin.models import (
    AuditLog,
    AvailabilityException,
    Coupon,
    Course,
    Payment,
    Refund,
    Ticket,
    TicketMessage,
    TimeOff,
    TutorPayout,
    User,
    WeeklyRule,
    utcnow,
)

from .factories import DEFAULT_PASSWORD


def _add(db, row):
    db.session.add(row)
    db.session.flush()
    return row


@pytest.fixture
def world(make, db):
    """One of everything the back office lists, around a tutor with a paid, booked session."""
    course = make.course(title="Chimie générale", rate_cents=6000)
    tutor = make.tutor(courses=[course], display_name="Marie Curie")
    student = make.user(first_name="Léa", last_name="Tremblay")
    order = make.order(user=student, course=course, tutor=tutor)
    start = utcnow() + timedelta(days=20)
    rows = {
        "course": course,
        "tutor": tutor,
        "student": student,
        "order": order,
        "appointment": make.appointment(student=student, tutor=tutor, course=course, order_item=order.items[0]),
        "coupon": make.coupon(code="RENTREE"),
        "rule": make.weekly_rule(tutor),
        "exception": _add(
            db,
            AvailabilityException(
                tutor=tutor, date=date(2030, 1, 8), kind="open", start_time=time(18), end_time=time(20)
            ),
        ),
        "time_off": _add(
            db, TimeOff(tutor=tutor, starts_at=start, ends_at=start + timedelta(days=1), reason="Congrès")
        ),
        "payout": _add(
            db, TutorPayout(tutor=tutor, year=2030, month=1, minutes=90, earnings_cents=3750, amount_cents=3750)
        ),
        "refund": _add(
            db,
            Refund(
                order=order,
                amount_cents=1000,
                reason="Geste commercial",
                status="succeeded",
                idempotency_key="refund-1",
                processed_at=utcnow(),
            ),
        ),
        "ticket": _add(db, Ticket(student=student, subject="Lien Zoom manquant", category="technique")),
        "audit": _add(
            db,
            AuditLog(
                action="tutor.rate_changed",
                target_type="tutors",
                target_id=tutor.id,
                before={"rate": 2500},
                after={"rate": 2700},
            ),
        ),
    }
    _add(
        db,
        Payment(
            order=order,
            provider="simulated",
            gateway_payment_id="pi_1",
            idempotency_key="pay-1",
            amount_cents=order.total_cents,
            status="succeeded",
            succeeded_at=utcnow(),
        ),
    )
    _add(db, TicketMessage(ticket=rows["ticket"], author=student, body="Je n'ai pas reçu le lien."))
    db.session.commit()
    return rows


# (list URL, row of `world` it shows, a text its list and details pages contain)
PAGES = {
    "admin": [
        ("/admin/cours/", "course", "Chimie générale"),
        ("/admin/tuteurs/", "tutor", "Marie Curie"),
        ("/admin/coupons/", "coupon", "RENTREE"),
        ("/admin/horaires/", "rule", "Lundi"),
        ("/admin/exceptions/", "exception", "Ouvert"),
        ("/admin/conges/", "time_off", "Congrès"),
        ("/admin/rendez-vous/", "appointment", "Planifiée"),
        ("/admin/commandes/", "order", "60,00"),
        ("/admin/etudiants/", "student", "Tremblay"),
        ("/admin/billets/", "ticket", "Lien Zoom manquant"),
        ("/admin/utilisateurs/", "student", "Étudiant"),
        ("/admin/journal/", "audit", "Taux horaire modifié"),
    ],
    "accountant": [
        ("/admin/compta/commandes/", "order", "Payée"),
        ("/admin/compta/remboursements/", "refund", "10,00"),
        ("/admin/compta/paiements-tuteurs/", "payout", "37,50"),
        ("/admin/compta/coupons/", "coupon", "10 %"),
    ],
    "tutor": [
        ("/admin/mes-horaires/", "rule", "09:00"),
        ("/admin/mes-exceptions/", "exception", "18:00"),
        ("/admin/mes-conges/", "time_off", "Congrès"),
        ("/admin/mes-rendez-vous/", "appointment", "Chimie générale"),
        ("/admin/mes-revenus/", "payout", "1,5\u00a0h"),
        ("/admin/mon-profil/", "tutor", "25,00"),
    ],
}


def _sign_in(role, world, login, login_as):
    if role == "tutor":
        login(world["tutor"].user)
    else:
        login_as(role)


@pytest.mark.parametrize("role", list(PAGES))
def test_every_page_of_a_role_renders_its_rows_in_french(client, world, login, login_as, role):
    _sign_in(role, world, login, login_as)
    failures = {}
    for url, key, text in PAGES[role]:
        row_id = world[key].id
        for page in ("", f"details/?id={row_id}"):
            response = client.get(url + page)
            if response.status_code != 200 or text not in response.get_data(as_text=True):
                failures[url + page] = response.status_code
        for page in ("new/", f"edit/?id={row_id}"):
            status = client.get(url + page).status_code
            if status not in (200, 403):
                failures[url + page] = status
    assert failures == {}


@pytest.mark.parametrize("role", ["admin", "accountant"])
def test_list_searches_and_csv_exports_answer(client, world, login_as, role):
    login_as(role)
    urls = [url for url, _, _ in PAGES[role]]
    searches = {url: client.get(f"{url}?search=Tremblay").status_code for url in urls}
    assert searches == dict.fromkeys(urls, 200)
    if role == "accountant":
        exports = {}
        for url in urls:
            # Exports are streamed: read each one before the next request.
            response = client.get(f"{url}export/csv/")
            exports[url] = (response.status_code, response.get_data(as_text=True))
        assert {url: status for url, (status, _) in exports.items()} == dict.fromkeys(urls, 200)
        assert "37.50" in exports["/admin/compta/paiements-tuteurs/"][1]


def _filter_args(html):
    """{(filter name, operation): URL argument} of a list page's filters."""
    data = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', html).group(1)
    groups = json.loads(unescape(data))
    return {(name, f["operation"]): f["arg"] for name, items in groups.items() for f in items}


def _listed_ids(response):
    assert response.status_code == 200
    return {int(i) for i in re.findall(r"[?&;]id=(\d+)", response.get_data(as_text=True))}


def test_the_appointment_list_filters_by_status_and_local_day(client, world, make, db, login_as):
    login_as("staff")
    evening = datetime(2030, 3, 4, 23, 30, tzinfo=LOCAL_TZ)  # 04:30 UTC the next day
    late = make.appointment(starts_at=evening.astimezone(UTC), status="cancelled", cancelled_at=utcnow())
    db.session.commit()
    args = _filter_args(client.get("/admin/rendez-vous/").get_data(as_text=True))
    status, day = args[("Statut", "vaut")], args[("Date", "le")]
    listed = lambda query: _listed_ids(client.get(f"/admin/rendez-vous/?{query}"))  # noqa: E731
    assert listed(f"flt0_{status}=cancelled") == {late.id}
    assert listed(f"flt0_{day}=2030-03-04") == {late.id}
    assert listed(f"flt0_{day}=2030-03-05") == set()
    assert world["appointment"].id in listed(f"flt0_{day}=pas-une-date")


def test_an_administrator_creates_an_account_whose_password_is_only_stored_hashed(client, db, login_as):
    login_as("admin")
    form = client.get("/admin/utilisateurs/new/").get_data(as_text=True)
    assert "password_hash" not in form and 'type="password"' in form
    data = {
        "email": "Compta@4AS.ca",
        "first_name": "Luc",
        "last_name": "Roy",
        "role": "accountant",
        "status": "active",
        "password": "un-long-secret",
    }
    assert client.post("/admin/utilisateurs/new/", data=data).status_code == 302
    user = User.find_by_email("compta@4as.ca")
    assert user.role == "accountant" and user.check_password("un-long-secret")
    assert "un-long-secret" not in user.password_hash
    edit = client.get(f"/admin/utilisateurs/edit/?id={user.id}").get_data(as_text=True)
    assert user.password_hash not in edit


@pytest.mark.parametrize(
    "password, message",
    [("", "Choisissez un mot de passe"), ("court", "au moins 8 caractères")],
)
def test_an_account_needs_a_real_password(client, db, login_as, password, message):
    login_as("admin")
    data = {"email": "nouveau@example.com", "role": "staff", "status": "active"}
    data["password"] = password
    response = client.post("/admin/utilisateurs/new/", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    assert User.find_by_email("nouveau@example.com") is None


@pytest.mark.parametrize(
    "email, message",
    [("pas-une-adresse", "Adresse courriel invalide."), ("PRISE@example.com", "Un compte existe déjà")],
)
def test_an_account_cannot_be_given_a_bad_or_taken_email(client, make, db, login_as, email, message):
    login_as("admin")
    make.user(email="prise@example.com")
    user = make.user(email="libre@example.com")
    db.session.commit()
    data = {"email": email, "first_name": "", "last_name": "", "phone": "", "role": "student", "status": "active"}
    response = client.post(f"/admin/utilisateurs/edit/?id={user.id}", data=data)
    assert response.status_code == 200
    assert message in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, user.id).email == "libre@example.com"


def test_staff_suspend_a_student_who_then_cannot_sign_in(client, make, db, login_as, app):
    student = make.user(first_name="Zoé")
    login_as("staff")
    db.session.commit()
    data = {"first_name": "Zoé", "last_name": student.last_name, "phone": "", "status": "suspended"}
    assert client.post(f"/admin/etudiants/edit/?id={student.id}", data=data).status_code == 302
    db.session.expire_all()
    assert db.session.get(User, student.id).status == "suspended"
    credentials = {"email": student.email, "password": DEFAULT_PASSWORD}
    assert app.test_client().post("/connexion", data=credentials).status_code == 400


def test_the_student_list_holds_students_only(client, make, db, login_as):
    staff = login_as("staff")
    student = make.user()
    db.session.commit()
    html = client.get("/admin/etudiants/").get_data(as_text=True)
    assert student.email in html and staff.email not in html
    assert client.get(f"/admin/etudiants/details/?id={staff.id}").status_code == 404


def test_a_coupon_code_is_stored_uppercase_and_its_dates_in_utc(client, db, login_as):
    login_as("staff")
    data = {
        "code": " ete25 ",
        "kind": "percent",
        "value": "25",
        "starts_at": "2030-06-01 00:00",
        "ends_at": "",
        "max_redemptions": "",
        "active": "y",
    }
    assert client.post("/admin/coupons/new/", data=data).status_code == 302
    coupon = db.session.query(Coupon).one()
    assert coupon.code == "ETE25"
    # Typed in Québec time (EDT in June), stored in UTC.
    assert coupon.starts_at.isoformat() == "2030-06-01T04:00:00+00:00"


@pytest.mark.parametrize("field", ["starts_at", "ends_at"])
@pytest.mark.parametrize("typed", ["0001-01-01 10:00", "1999-06-01 10:00", "2101-06-01 10:00"])
def test_a_coupon_dated_outside_the_business_years_is_refused_in_french(client, db, login_as, field, typed):
    login_as("staff")
    data = {
        "code": "ANCIEN",
        "kind": "percent",
        "value": "10",
        "starts_at": "",
        "ends_at": "",
        "active": "y",
        field: typed,
    }

    response = client.post("/admin/coupons/new/", data=data)

    assert response.status_code == 200
    assert "Date invalide" in unescape(response.get_data(as_text=True))
    assert db.session.query(Coupon).count() == 0


@pytest.mark.parametrize("slug", ["<b>maths</b>", "maths 101", "français", "maths--101", "-maths", 'x"onclick'])
def test_a_course_slug_with_other_characters_is_refused_in_french(client, db, login_as, slug):
    login_as("staff")
    data = {"title": "Maths", "slug": slug, "rate_cents": "45", "active": "y"}

    response = client.post("/admin/cours/new/", data=data)

    assert response.status_code == 200
    assert "Identifiant d'URL invalide" in unescape(response.get_data(as_text=True))
    assert db.session.query(Course).count() == 0


def test_a_course_slug_typed_in_capitals_is_stored_lowercase(client, db, login_as):
    login_as("staff")
    data = {"title": "Calcul I", "slug": " MAT-1000 ", "rate_cents": "45", "active": "y"}

    assert client.post("/admin/cours/new/", data=data).status_code == 302
    assert db.session.query(Course.slug).scalar() == "mat-1000"


@pytest.fixture
def ticket(db, make):
    ticket = Ticket(student_id=make.user().id, subject="Aide", assignee_id=make.user(role="staff").id)
    db.session.add(ticket)
    db.session.commit()
    return ticket


def _triage(client, ticket, assignee):
    data = {"category": "autre", "priority": "moyenne", "status": "ouvert", "assignee": assignee}
    return client.post(f"/admin/billets/edit/?id={ticket.id}", data=data)


@pytest.mark.parametrize("assignee", ["", "__None"])
def test_a_ticket_saved_with_an_empty_assignee_has_none(client, db, login_as, ticket, assignee):
    login_as("staff")

    assert _triage(client, ticket, assignee).status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assignee_id is None


@pytest.mark.parametrize("who", ["student", "unknown", "text"])
def test_a_ticket_assignee_outside_the_office_is_refused_not_cleared(client, db, login_as, ticket, who):
    login_as("staff")
    before = ticket.assignee_id
    assignee = {"student": str(ticket.student_id), "unknown": "999999", "text": "abc"}[who]

    response = _triage(client, ticket, assignee)

    assert response.status_code == 200
    assert "Choix invalide" in unescape(response.get_data(as_text=True))
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assignee_id == before


def test_a_ticket_is_assigned_to_someone_from_the_office(client, db, login_as, ticket):
    admin = login_as("admin")

    assert _triage(client, ticket, str(admin.id)).status_code == 302
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).assignee_id == admin.id


def test_an_account_gets_one_tutor_profile_at_most(client, world, db, login_as):
    login_as("admin")
    data = {
        "user": world["tutor"].user_id,
        "display_name": "Doublon",
        "hourly_rate_cents": "25",
        "priority": "1",
    }
    response = client.post("/admin/tuteurs/new/", data=data)
    assert response.status_code == 200
    assert "Ce compte a déjà un profil de tuteur." in response.get_data(as_text=True)


@pytest.mark.parametrize("start, end", [("12:00", "10:00"), ("10:00", "10:00")])
def test_a_weekly_rule_ending_before_it_starts_is_refused_in_french(client, make, db, login, start, end):
    tutor = make.tutor()
    db.session.commit()
    login(tutor.user)
    data = {"weekday": "1", "start_time": start, "end_time": end}
    response = client.post("/admin/mes-horaires/new/", data=data)
    assert response.status_code == 200
    message = "L'heure de fin doit être après l'heure de début."
    assert message in unescape(response.get_data(as_text=True))
    assert db.session.query(WeeklyRule).count() == 0


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_back_office_forms_need_the_sites_csrf_token(client, make, db):
    admin = make.user(role="admin")
    db.session.commit()

    def tokens(url):
        html = client.get(url).get_data(as_text=True)
        return re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)

    credentials = {"email": admin.email, "password": DEFAULT_PASSWORD}
    client.post("/connexion", data={**credentials, "csrf_token": tokens("/connexion")[0]})
    data = {"title": "Physique", "slug": "phy", "rate_cents": "45", "active": "y"}
    assert client.post("/admin/cours/new/", data=data).status_code == 400
    # One token for the whole site: every copy on the page is the same.
    form_tokens = set(tokens("/admin/cours/new/"))
    assert len(form_tokens) == 1
    response = client.post("/admin/cours/new/", data={**data, "csrf_token": form_tokens.pop()})
    assert response.status_code == 302
