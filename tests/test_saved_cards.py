"""Saved cards: the student lists them, removes one, chooses the default — through the real `stripe` library."""

import pytest

from tutoradmin.payments import GatewayError, get_gateway
from tutoradmin.payments.base import CARD_NOT_FOUND

from .query_counts import page_statements


@pytest.fixture
def app_config(fake_stripe):
    return fake_stripe.app_config()


@pytest.fixture
def stripe_gateway(app):
    return get_gateway(app.config)


@pytest.fixture
def student(make, db, stripe_gateway):
    user = make.user(email="lea.gagnon@example.com", first_name="Léa", last_name="Gagnon")
    stripe_gateway.ensure_customer(user)
    db.session.commit()
    return user


@pytest.fixture
def stranger(make, db, stripe_gateway):
    user = make.user(email="autre@example.com")
    stripe_gateway.ensure_customer(user)
    db.session.commit()
    return user


@pytest.fixture
def cards(fake_stripe, student):
    """The student's visa (12/2034) and mastercard (3/2029)."""
    customer = student.stripe_customer_id
    return (
        fake_stripe.add_card(customer, "pm_card_visa", exp=(12, 2034)),
        fake_stripe.add_card(customer, "pm_card_mastercard", exp=(3, 2029)),
    )


def _default_of(fake_stripe, user):
    return fake_stripe.customers[user.stripe_customer_id]["invoice_settings"]["default_payment_method"]


# The gateway


def test_a_card_removed_through_the_gateway_is_no_longer_listed(fake_stripe, stripe_gateway, student, cards):
    visa, mastercard = cards
    stripe_gateway.detach_card(student.stripe_customer_id, visa)

    assert [c.payment_method_id for c in stripe_gateway.saved_cards(student.stripe_customer_id)] == [mastercard]
    assert fake_stripe.sent("POST", f"/v1/payment_methods/{visa}/detach")
    assert fake_stripe.methods[visa]["customer"] is None


def test_the_default_card_is_set_on_the_customer_and_read_back(fake_stripe, stripe_gateway, student, cards):
    _, mastercard = cards
    assert stripe_gateway.default_card(student.stripe_customer_id) is None

    stripe_gateway.set_default_card(student.stripe_customer_id, mastercard)

    assert stripe_gateway.default_card(student.stripe_customer_id) == mastercard
    update = fake_stripe.sent("POST", f"/v1/customers/{student.stripe_customer_id}")
    assert update[-1].params == {"invoice_settings": {"default_payment_method": mastercard}}


def test_removing_the_default_card_leaves_no_default(fake_stripe, stripe_gateway, student, cards):
    visa, _ = cards
    stripe_gateway.set_default_card(student.stripe_customer_id, visa)
    stripe_gateway.detach_card(student.stripe_customer_id, visa)

    assert stripe_gateway.default_card(student.stripe_customer_id) is None


@pytest.mark.parametrize("operation", ["detach_card", "set_default_card"])
def test_another_customers_card_is_refused_and_left_alone(
    fake_stripe, stripe_gateway, student, stranger, cards, operation
):
    theirs = fake_stripe.add_card(stranger.stripe_customer_id)

    with pytest.raises(GatewayError) as refused:
        getattr(stripe_gateway, operation)(student.stripe_customer_id, theirs)

    assert refused.value.message == CARD_NOT_FOUND
    assert fake_stripe.methods[theirs]["customer"] == stranger.stripe_customer_id
    assert _default_of(fake_stripe, student) is None and _default_of(fake_stripe, stranger) is None
    assert not fake_stripe.sent("POST", f"/v1/payment_methods/{theirs}/detach")


@pytest.mark.parametrize("payment_method", ["pm_inconnu", "", "pm_card_visa"])
def test_an_unknown_card_is_refused_with_a_french_message(stripe_gateway, student, payment_method):
    with pytest.raises(GatewayError) as refused:
        stripe_gateway.detach_card(student.stripe_customer_id, payment_method)
    assert refused.value.message == CARD_NOT_FOUND


def test_without_a_customer_nothing_is_asked_of_stripe(fake_stripe, stripe_gateway):
    with pytest.raises(GatewayError):
        stripe_gateway.set_default_card(None, "pm_x")
    assert stripe_gateway.default_card(None) is None
    assert fake_stripe.requests == []


# The page


def test_the_page_lists_the_students_cards_with_brand_last_digits_expiry_and_default(
    client, login, fake_stripe, stripe_gateway, student, stranger, cards
):
    fake_stripe.add_card(stranger.stripe_customer_id, "pm_card_visa")
    stripe_gateway.set_default_card(student.stripe_customer_id, cards[1])
    login(student)

    page = client.get("/tableau-de-bord/cartes")

    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert html.count('class="saved-card"') == 2
    assert "VISA</strong> se terminant par 4242" in html and "expire 12/2034" in html
    assert "MASTERCARD</strong> se terminant par 4444" in html and "expire 03/2029" in html
    default_line = html.split(f'data-card="{cards[1]}"')[1].split("</li>")[0]
    assert "Carte par défaut" in default_line
    assert html.count("Carte par défaut") == 1


def test_the_page_costs_the_same_statements_with_four_times_the_cards_and_orders(
    client, login, db, make, fake_stripe, student, cards
):
    login(student)
    make.booked_order(user=student, items=1)
    db.session.commit()
    few, page = page_statements(client, db, "/tableau-de-bord/cartes")
    for brand in (
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_visa",
        "pm_card_mastercard",
        "pm_card_visa",
        "pm_card_visa",
    ):
        fake_stripe.add_card(student.stripe_customer_id, brand)
    for _ in range(3):
        make.booked_order(user=student, items=2)
    db.session.commit()

    many, more = page_statements(client, db, "/tableau-de-bord/cartes")

    assert (page.count('class="saved-card"'), more.count('class="saved-card"')) == (2, 8)
    assert len(many) == len(few), many


def test_a_student_removes_a_card_from_the_page(client, login, fake_stripe, stripe_gateway, student, cards):
    login(student)
    response = client.post("/tableau-de-bord/cartes", data={"payment_method": cards[0], "action": "remove"})

    assert response.status_code == 302
    assert [c.payment_method_id for c in stripe_gateway.saved_cards(student.stripe_customer_id)] == [cards[1]]
    assert "La carte est retirée" in client.get("/tableau-de-bord/cartes").get_data(as_text=True)


def test_a_student_chooses_the_default_card_from_the_page(client, login, fake_stripe, student, cards):
    login(student)
    response = client.post("/tableau-de-bord/cartes", data={"payment_method": cards[0], "action": "default"})

    assert response.status_code == 302
    assert _default_of(fake_stripe, student) == cards[0]


@pytest.mark.parametrize("action", ["remove", "default"])
def test_another_students_card_cannot_be_removed_or_chosen_from_the_page(
    client, login, fake_stripe, student, stranger, cards, action
):
    theirs = fake_stripe.add_card(stranger.stripe_customer_id)
    login(student)

    response = client.post("/tableau-de-bord/cartes", data={"payment_method": theirs, "action": action})

    assert response.status_code == 302
    assert fake_stripe.methods[theirs]["customer"] == stranger.stripe_customer_id
    assert _default_of(fake_stripe, student) is None and _default_of(fake_stripe, stranger) is None
    assert CARD_NOT_FOUND.replace("'", "&#39;") in client.get("/tableau-de-bord/cartes").get_data(as_text=True)


@pytest.mark.parametrize(
    "data", [{}, {"payment_method": "pm_x"}, {"payment_method": "pm_x", "action": "supprimer"}, {"action": "remove"}]
)
def test_an_incomplete_request_changes_nothing(client, login, fake_stripe, student, cards, data):
    login(student)
    before = len(fake_stripe.requests)

    response = client.post("/tableau-de-bord/cartes", data=data)

    assert response.status_code == 302
    assert not [r for r in fake_stripe.requests[before:] if r.method == "POST"]
    assert {fake_stripe.methods[c]["customer"] for c in cards} == {student.stripe_customer_id}


def test_a_student_without_a_customer_sees_no_cards(client, login, make, db, fake_stripe):
    user = make.user()
    db.session.commit()
    login(user)

    page = client.get("/tableau-de-bord/cartes")

    assert page.status_code == 200
    assert "Aucune carte enregistrée" in page.get_data(as_text=True)
    assert fake_stripe.requests == []


def test_stripe_unavailable_shows_a_french_message(client, login, fake_stripe, student, cards):
    login(student)
    fake_stripe.fail_next = 10

    page = client.get("/tableau-de-bord/cartes")

    assert page.status_code == 503
    assert "momentanément indisponible" in page.get_data(as_text=True)


def test_anonymous_visitors_are_sent_to_login(client):
    response = client.get("/tableau-de-bord/cartes")
    assert response.status_code == 302 and "/connexion" in response.headers["Location"]


@pytest.mark.parametrize("role", ["staff", "admin", "accountant", "tutor"])
def test_office_accounts_have_no_card_page(client, login_as, role):
    login_as(role)
    assert client.get("/tableau-de-bord/cartes").status_code == 403


def test_the_profile_page_links_to_the_cards(client, login, student):
    login(student)
    assert 'href="/tableau-de-bord/cartes"' in client.get("/tableau-de-bord/profil").get_data(as_text=True)


def test_the_dashboard_links_to_the_cards_with_stripe(client, login, student):
    login(student)

    assert 'href="/tableau-de-bord/cartes"' in client.get("/tableau-de-bord").get_data(as_text=True)
