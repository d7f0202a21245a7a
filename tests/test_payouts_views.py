"""Payout pages: who sees which statement, who may mark a month paid, and what bad input does."""

import csv
import io
import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html import unescape
from urllib.parse import parse_qs, urlsplit

import pytest

from tutoradmin.formatting import money, month_label
from tutoradmin.localtime import LOCAL_TZ, add_months, month_of, previous_month, to_local
from tutoradmin.models import AuditLog, OrderItem, TutorPayout, utcnow
from tutoradmin.occupancy import release_appointment
from tutoradmin.payouts import mark_paid, record_refund_adjustment

from .factories import DEFAULT_PASSWORD

OFFICE_URL = "/admin/paiements-tuteurs/"
PAY_URL = "/admin/paiements-tuteurs/payer"
ACCOUNTING_URL = "/admin/compta/releves-tuteurs/"
MY_URL = "/admin/mes-revenus/"


def local(day, hour, minute=0):
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def last_month():
    return previous_month(utcnow())


@pytest.fixture
def today():
    return to_local(utcnow()).date()


@pytest.fixture
def month_of_work(db, make, last_month):
    """A tutor with 60 + 90 minutes completed last month (62,50 $), paid by a student at 77,77 $/h."""
    course = make.course(title="Chimie générale", rate_cents=7777)
    tutor = make.tutor(courses=[course], hourly_rate_cents=2500, display_name="Amélie Tremblay")
    for day, minutes in ((3, 60), (10, 90)):
        start = local(last_month.replace(day=day), 10)
        order = make.order(items=0, course=course, tutor=tutor)
        item = OrderItem(
            course=course,
            tutor=tutor,
            starts_at=start,
            ends_at=start + timedelta(minutes=minutes),
            duration_minutes=minutes,
            price_cents=7777 * minutes // 60,
            tutor_earnings_cents=2500 * minutes // 60,
        )
        order.items.append(item)
        make.appointment(
            tutor=tutor, course=course, starts_at=start, duration_minutes=minutes, status="completed", order_item=item
        )
    db.session.commit()
    return tutor


def _statement_url(base, tutor, month):
    return f"{base}?tuteur={tutor.id}&mois={month:%Y-%m}"


def _page(response):
    return unescape(response.get_data(as_text=True))


def _text(response):
    """The page's text, without its tags."""
    return re.sub(r"[ \t\r\n]+", " ", re.sub(r"<[^>]+>", "", _page(response)))


def _pay_data(whom, period, paid_on, /, **changes):
    return {
        "tutor": whom.id,
        "month": f"{period:%Y-%m}",
        "confirmation_number": "VIR-42",
        "paid_on": paid_on.isoformat(),
        **changes,
    }


def _nothing_written(db):
    db.session.expire_all()
    return db.session.query(TutorPayout).count() == 0 and db.session.query(AuditLog).count() == 0


# --- access --------------------------------------------------------------------------------

ROLES = ["anonymous", "student", "tutor", "accountant", "staff", "admin"]
ALLOWED = {
    OFFICE_URL: {"staff", "admin"},
    ACCOUNTING_URL: {"accountant"},
    f"{MY_URL}releve/?mois=2026-03": {"tutor"},
    MY_URL: {"tutor"},
    f"{MY_URL}export.csv": {"tutor"},
    f"{MY_URL}export.csv?annee=2025": {"tutor"},
    f"{MY_URL}annee/2025": {"tutor"},
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("url", list(ALLOWED))
def test_each_payout_page_opens_for_its_roles_only(client, login_as, role, url):
    if role != "anonymous":
        login_as(role)

    response = client.get(url)

    if role == "anonymous":
        location = urlsplit(response.headers["Location"])
        assert response.status_code == 302 and location.path == "/connexion"
        assert parse_qs(location.query)["next"][0] == url
    else:
        assert response.status_code == (200 if role in ALLOWED[url] else 403)


@pytest.mark.parametrize("role", ["anonymous", "student", "tutor", "accountant", "staff"])
def test_only_an_administrator_may_mark_a_month_paid(client, db, login_as, month_of_work, last_month, today, role):
    if role != "anonymous":
        login_as(role)

    response = client.post(PAY_URL, data=_pay_data(month_of_work, last_month, today))

    assert response.status_code == (302 if role == "anonymous" else 403)
    assert _nothing_written(db)


# --- the office ----------------------------------------------------------------------------


def test_an_administrator_marks_a_month_paid_through_the_form(client, db, login_as, month_of_work, last_month, today):
    admin = login_as("admin")
    url = _statement_url(OFFICE_URL, month_of_work, last_month)
    before = _page(client.get(url))
    assert "Marquer comme payé" in before and money(6250) in before and "2,5\u00a0h" in before

    response = client.post(PAY_URL, data=_pay_data(month_of_work, last_month, today))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(url)
    payout = db.session.query(TutorPayout).one()
    assert (payout.tutor_id, payout.year, payout.month) == (month_of_work.id, last_month.year, last_month.month)
    assert (payout.status, payout.minutes, payout.amount_cents) == ("paid", 150, 6250)
    assert (payout.confirmation_number, payout.paid_by_id) == ("VIR-42", admin.id)
    assert db.session.query(AuditLog).one().action == "payout.paid"
    after = _page(client.get(url))
    assert f"Paiement enregistré : Amélie Tremblay, {month_label(last_month)}" in after
    assert "confirmation VIR-42" in after and "Payé le" in after
    assert 'action="/admin/paiements-tuteurs/payer"' not in after
    # A second submission is refused: the month is locked.
    again = client.post(PAY_URL, data=_pay_data(month_of_work, last_month, today, confirmation_number="VIR-43"))
    assert again.status_code == 400 and "déjà payé" in _page(again)
    db.session.expire_all()
    assert db.session.query(TutorPayout).one().confirmation_number == "VIR-42"


def test_the_current_month_offers_no_payment_form_yet(client, login_as, month_of_work, last_month):
    login_as("admin")

    page = _page(client.get(_statement_url(OFFICE_URL, month_of_work, add_months(last_month, 1))))

    assert "Mois en cours" in page and 'name="confirmation_number"' not in page


def test_staff_see_the_statement_without_the_payment_form(client, login_as, month_of_work, last_month):
    login_as("staff")

    page = _page(client.get(_statement_url(OFFICE_URL, month_of_work, last_month)))

    assert "Chimie générale" in page and money(6250) in page and "2,5\u00a0h" in page
    assert "Marquer comme payé" not in page and 'name="confirmation_number"' not in page


def test_the_default_page_lists_last_months_tutors(client, login_as, month_of_work, last_month):
    login_as("staff")

    page = _page(client.get(OFFICE_URL))

    assert f'value="{last_month:%Y-%m}"' in page
    assert "Amélie Tremblay" in page and money(6250) in page and "À payer" in page
    assert f"tuteur={month_of_work.id}&amp;mois={last_month:%Y-%m}" in client.get(OFFICE_URL).get_data(as_text=True)


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"confirmation_number": "  "}, "Indiquez le numéro de confirmation du paiement."),
        ({"paid_on": ""}, "Indiquez la date du paiement"),
        ({"paid_on": "05/04/2026"}, "Date invalide : « 05/04/2026 »"),
        ({"paid_on": "tomorrow"}, "Date invalide"),
        ("future", "La date de paiement ne peut pas être dans le futur."),
        ("current_month", "n'est pas terminé"),
    ],
)
def test_bad_payment_input_shows_a_french_message_and_writes_nothing(
    client, db, login_as, month_of_work, last_month, today, changes, message
):
    login_as("admin")
    month = last_month
    if changes == "future":
        changes = {"paid_on": (today + timedelta(days=1)).isoformat()}
    elif changes == "current_month":
        month, changes = add_months(last_month, 1), {}

    response = client.post(PAY_URL, data=_pay_data(month_of_work, month, today, **changes))

    assert response.status_code == 400
    assert message in _page(response)
    assert _nothing_written(db)


@pytest.mark.parametrize(
    "data, status",
    [({"tutor": "abc"}, 400), ({"tutor": "999999"}, 404), ({"month": "2026-13"}, 400), ({"month": "1950-01"}, 400)],
)
def test_tampered_hidden_fields_are_refused(client, db, login_as, month_of_work, last_month, today, data, status):
    login_as("admin")

    response = client.post(PAY_URL, data=_pay_data(month_of_work, last_month, today, **data))

    assert response.status_code == status
    assert _nothing_written(db)


@pytest.mark.parametrize(
    "query, status, message",
    [
        ("?mois=2026-13", 400, "Mois invalide : « 2026-13 »"),
        ("?mois=1950-01", 400, "Mois invalide"),
        ("?tuteur=abc", 400, "Identifiant de tuteur invalide."),
        ("?tuteur=999999", 404, "Page introuvable."),
    ],
)
def test_bad_statement_parameters_get_a_french_message(client, login_as, query, status, message):
    login_as("staff")

    response = client.get(OFFICE_URL + query)

    assert response.status_code == status
    assert message in _page(response)


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_marking_paid_needs_the_sites_csrf_token(client, make, db, month_of_work, last_month, today):
    admin = make.user(role="admin")
    db.session.commit()

    def token(url):
        html = client.get(url).get_data(as_text=True)
        return re.findall(r'name="csrf_token"[^>]*value="([^"]+)"', html)[0]

    client.post(
        "/connexion", data={"email": admin.email, "password": DEFAULT_PASSWORD, "csrf_token": token("/connexion")}
    )
    data = _pay_data(month_of_work, last_month, today)
    assert client.post(PAY_URL, data=data).status_code == 400
    assert _nothing_written(db)
    form_token = token(_statement_url(OFFICE_URL, month_of_work, last_month))
    assert client.post(PAY_URL, data={**data, "csrf_token": form_token}).status_code == 302
    assert db.session.query(TutorPayout).one().status == "paid"


# --- the accountant ------------------------------------------------------------------------


def test_the_accountant_reads_statements_but_cannot_pay(client, db, login_as, month_of_work, last_month, today):
    login_as("accountant")

    page = _page(client.get(_statement_url(ACCOUNTING_URL, month_of_work, last_month)))

    assert "Chimie générale" in page and money(6250) in page
    assert "Marquer comme payé" not in page
    data = _pay_data(month_of_work, last_month, today)
    assert client.post(f"{ACCOUNTING_URL}payer", data=data).status_code in (404, 405)
    assert client.post(ACCOUNTING_URL, data=data).status_code == 405
    assert client.post(PAY_URL, data=data).status_code == 403
    assert _nothing_written(db)


# --- the tutor -----------------------------------------------------------------------------


@pytest.fixture
def colleague_and_me(make, login, db, month_of_work, last_month):
    """The signed-in tutor (one 2-hour session last month) and `month_of_work`'s tutor."""
    course = make.course(title="Philosophie", rate_cents=5000)
    me = make.tutor(courses=[course], hourly_rate_cents=3150)
    make.appointment(
        tutor=me, course=course, starts_at=local(last_month.replace(day=5), 9), duration_minutes=120, status="completed"
    )
    db.session.commit()
    login(me.user)
    return me, month_of_work


def test_a_tutor_sees_their_own_hours_earnings_and_rate(client, colleague_and_me, last_month):
    _me, other = colleague_and_me

    page = _text(client.get(MY_URL))

    assert f"Mon taux horaire : {money(3150)}" in page
    assert "2,0\u00a0h" in page and money(6300) in page and "Mois en cours" in page
    assert other.display_name not in page and money(6250) not in page
    assert "77,77" not in page and "Chimie" not in page


@pytest.mark.parametrize("extra", ["", "&tuteur={other}", "&tutor_id={other}&id={other}"])
def test_a_tutor_statement_is_always_their_own(client, colleague_and_me, last_month, extra):
    _me, other = colleague_and_me
    url = f"{MY_URL}releve/?mois={last_month:%Y-%m}" + extra.format(other=other.id)

    page = _page(client.get(url))

    assert "Philosophie" in page and money(6300) in page
    assert "Chimie" not in page and money(6250) not in page and "77,77" not in page


@pytest.mark.parametrize(
    "url",
    [OFFICE_URL + "?tuteur={other}&mois={month}", ACCOUNTING_URL + "?tuteur={other}&mois={month}"],
)
def test_a_tutor_cannot_open_another_tutors_statement_elsewhere(client, colleague_and_me, last_month, url):
    _, other = colleague_and_me
    response = client.get(url.format(other=other.id, month=f"{last_month:%Y-%m}"))
    assert response.status_code == 403


def test_a_tutor_cannot_open_another_tutors_paid_statement_by_id(client, db, make, colleague_and_me, last_month):
    _, other = colleague_and_me
    theirs = TutorPayout(
        tutor_id=other.id,
        year=last_month.year,
        month=last_month.month,
        minutes=150,
        earnings_cents=6250,
        amount_cents=6250,
    )
    db.session.add(theirs)
    db.session.commit()

    assert client.get(f"{MY_URL}details/?id={theirs.id}").status_code == 404
    assert str(theirs.id) not in re.findall(r"[?&;]id=(\d+)", client.get(MY_URL).get_data(as_text=True))


def test_a_tutor_statement_needs_a_valid_month(client, colleague_and_me):
    response = client.get(f"{MY_URL}releve/?mois=mars")
    assert response.status_code == 400
    assert "Mois invalide : « mars »" in _page(response)


def test_a_late_refund_shows_on_the_tutors_page_and_the_next_statement(
    client, db, make, login, login_as, month_of_work, last_month, today
):
    admin = make.user(role="admin")
    mark_paid(month_of_work, last_month.year, last_month.month, "VIR-7", today, admin, utcnow())
    refunded = db.session.query(OrderItem).filter_by(duration_minutes=90).one()
    refunded.appointment.status, refunded.appointment.cancelled_at = "cancelled", utcnow()
    release_appointment(refunded.appointment.id)
    record_refund_adjustment(refunded, 3750, "Séance non donnée", utcnow())
    db.session.commit()

    login(month_of_work.user)
    mine = _text(client.get(MY_URL))
    assert "Ajustements à déduire d'un prochain paiement" in mine
    assert "Séance non donnée" in mine and money(-3750) in mine
    login_as("admin")
    current = _text(client.get(_statement_url(OFFICE_URL, month_of_work, add_months(last_month, 1))))
    # Nothing earned yet this month to deduct it from: it waits for a later statement.
    assert "Ajustements reportés à un relevé suivant" in current
    assert "Séance non donnée" in current and money(-3750) in current
    paid = _text(client.get(_statement_url(OFFICE_URL, month_of_work, last_month)))
    assert "remboursée après paiement" in paid and "Montant payé 62,50" in paid


# --- the tutor's export and yearly summary -------------------------------------------------


def _late_cancel(appointment):
    """Marked annulation tardive under the default policy: half the earnings, half the price in credit."""
    appointment.attendance, appointment.tutor_share_percent, appointment.student_credit_percent = "late_cancel", 50, 50
    return appointment


def _csv_rows(response):
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"].startswith('attachment; filename="mes-revenus-')
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def _hours(minutes):
    return f"{Decimal(minutes) / 60:.1f}\u00a0h".replace(".", ",")


def test_the_earnings_export_matches_the_page_month_by_month(client, db, make, colleague_and_me, last_month):
    me, _other = colleague_and_me
    this_month = month_of(utcnow())
    # 90 minutes at 31,50 $/h = 47,25 $, late cancellation paid 50 % → 23,63 $ (rounded half up).
    _late_cancel(
        make.appointment(
            tutor=me, course=me.courses[0], starts_at=local(this_month, 9), duration_minutes=90, status="completed"
        )
    )
    db.session.commit()

    rows = _csv_rows(client.get(f"{MY_URL}export.csv"))
    page = _text(client.get(MY_URL))

    assert len(rows) == 12 and rows[0]["Mois"] == f"{this_month:%Y-%m}" and rows[1]["Mois"] == f"{last_month:%Y-%m}"
    assert sum(int(row["Minutes"]) for row in rows) == 210
    assert sum(Decimal(row["Gains"]) for row in rows) == Decimal("86.63")
    assert (rows[0]["Heures"], rows[0]["Gains"], rows[0]["Statut"]) == ("1.50", "23.63", "Mois en cours")
    for row in rows:
        month = date.fromisoformat(row["Mois"] + "-01")
        cents = int(Decimal(row["Gains"]) * 100)
        assert f"{month_label(month)} {_hours(int(row['Minutes']))} {money(cents)}" in page


@pytest.fixture
def my_year(db, make, colleague_and_me):
    """My 2025: 60 minutes présent in March (31,50 $, paid), 90 minutes late-cancelled in November (23,63 $)."""
    me, other = colleague_and_me
    course = me.courses[0]
    make.appointment(tutor=me, course=course, starts_at=local(date(2025, 3, 5), 10), status="completed")
    _late_cancel(
        make.appointment(
            tutor=me, course=course, starts_at=local(date(2025, 11, 20), 10), duration_minutes=90, status="completed"
        )
    )
    make.appointment(tutor=other, course=other.courses[0], starts_at=local(date(2025, 6, 2), 10), status="completed")
    admin = make.user(role="admin")
    mark_paid(me, 2025, 3, '=HYPERLINK("http://x")', date(2025, 4, 3), admin, utcnow())
    db.session.commit()
    return me


def test_the_yearly_summary_totals_the_tutors_own_months(client, my_year):
    page = _text(client.get(f"{MY_URL}annee/2025"))

    assert "Mes revenus — sommaire 2025" in page
    assert f"mars 2025 1,0\u00a0h {money(3150)} Payé le 3 avril 2025" in page
    assert f"novembre 2025 1,5\u00a0h {money(2363)}" in page
    assert f"juin 2025 0,0\u00a0h {money(0)}" in page
    assert f"Total 2025 2,5\u00a0h {money(5513)}" in page
    assert "Chimie" not in page and money(2500) not in page


def test_the_yearly_export_adds_up_to_the_summary_and_defuses_formulas(client, my_year):
    rows = _csv_rows(client.get(f"{MY_URL}export.csv?annee=2025"))

    assert [row["Mois"] for row in rows] == [f"2025-{m:02d}" for m in range(1, 13)]
    assert sum(int(row["Minutes"]) for row in rows) == 150
    assert sum(Decimal(row["Gains"]) for row in rows) == Decimal("55.13")
    march = rows[2]
    assert (march["Gains"], march["Statut"], march["Payé le"]) == ("31.50", "Payé", "2025-04-03")
    # A spreadsheet would run a cell starting with « = » as a formula.
    assert march["Confirmation"] == '\'=HYPERLINK("http://x")'


def test_the_tutors_statement_names_each_mark(client, my_year):
    page = _text(client.get(f"{MY_URL}releve/?mois=2025-11"))
    assert f"Annulation tardive — payée 50 % 90 min {money(2363)}" in page


@pytest.mark.parametrize(
    "url, message",
    [
        (f"{MY_URL}annee/1999", "Année invalide : choisissez une année entre 2000 et 2100."),
        (f"{MY_URL}export.csv?annee=deux", "Année invalide : « deux » (format attendu AAAA)."),
        (f"{MY_URL}export.csv?annee=2101", "Année invalide : choisissez une année entre 2000 et 2100."),
    ],
)
def test_a_bad_year_gets_a_french_message(client, colleague_and_me, url, message):
    response = client.get(url)
    assert response.status_code == 400
    assert message in _page(response)
