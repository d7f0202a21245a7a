"""Password rules: common passwords are refused everywhere one is chosen; login timing tells nothing."""

import re
import time

import pytest

from tutoradmin import passwords
from tutoradmin.accounts import AccountError, authenticate
from tutoradmin.demo.data import DEMO_PASSWORD
from tutoradmin.models import User, utcnow

from .factories import DEFAULT_PASSWORD
from .shopping import PASSWORD as CHECKOUT_PASSWORD
from .shopping import billing_form, make_offer

COMMON = "Ce mot de passe est trop courant : choisissez-en un autre."


@pytest.mark.parametrize(
    "password",
    ["motdepasse", "MotDePasse", "azerty123", "azertyuiop", "password1", "123456789", "bienvenue1", " jetaime123 "],
)
def test_common_passwords_are_refused_in_french(password):
    assert passwords.weakness(password) == COMMON


def test_short_passwords_are_refused_for_their_length_first():
    assert passwords.weakness("soleil") == "Le mot de passe doit contenir au moins 8 caractères."


@pytest.mark.parametrize(
    "password",
    [DEMO_PASSWORD, DEFAULT_PASSWORD, CHECKOUT_PASSWORD, "un-bon-mot-de-passe", "Correct-Cheval-Pile-Agrafe"],
)
def test_the_passwords_people_are_told_to_use_are_accepted(password):
    assert passwords.weakness(password) is None


def test_the_list_holds_thousands_of_passwords_written_lower_case():
    common = passwords.common_passwords()
    assert len(common) > 10_000
    assert {"motdepasse", "azerty123", "soleil", "123456"} <= common
    assert all(p == p.lower() for p in common)


def _signup(client, password):
    return client.post(
        "/inscription",
        data={
            "first_name": "Léa",
            "last_name": "Gagnon",
            "email": "lea@example.com",
            "password": password,
            "password_confirm": password,
        },
    )


def test_sign_up_refuses_a_common_password(client, db):
    response = _signup(client, "azerty123")
    assert response.status_code == 400
    assert COMMON in response.get_data(as_text=True)
    assert User.find_by_email("lea@example.com") is None


def test_guest_checkout_refuses_a_common_password(client, db, make):
    offer = make_offer(db, make, utcnow())
    body = {"cours": offer.course.slug, "creneaux": [{"debut": offer.at(9).isoformat(), "duree": 60}]}
    assert client.post("/panier/ajouter", json=body, headers={"Accept": "application/json"}).status_code == 200
    response = client.post("/checkout", data=billing_form(password="motdepasse1"))
    assert response.status_code == 400
    assert COMMON in response.get_data(as_text=True)
    assert db.session.query(User).filter(User.role == "student").count() == 0


def test_the_back_office_refuses_a_common_password(client, db, login_as, make):
    login_as("admin")
    data = {"email": "nouveau@example.com", "role": "staff", "status": "active", "password": "motdepasse"}
    response = client.post("/admin/utilisateurs/new/", data=data)
    assert response.status_code == 200 and COMMON in response.get_data(as_text=True)
    assert User.find_by_email("nouveau@example.com") is None

    student = make.user()
    db.session.commit()
    data = {
        "email": student.email,
        "first_name": "A",
        "last_name": "B",
        "phone": "",
        "role": "student",
        "status": "active",
        "password": "password123",
    }
    response = client.post(f"/admin/utilisateurs/edit/?id={student.id}", data=data)
    assert response.status_code == 200 and COMMON in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, student.id).check_password(DEFAULT_PASSWORD)


def test_create_user_refuses_a_common_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "staff", "--email", "courant@4as.ca"],
        input="azerty123\nazerty123\n",
    )
    assert result.exit_code != 0 and COMMON in result.output
    assert User.find_by_email("courant@4as.ca") is None


def _fastest(check, runs=3):
    """The quickest of a few runs: the time the work itself takes, without the machine's noise."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        check()
        times.append(time.perf_counter() - start)
    return min(times)


def test_an_unknown_email_takes_as_long_as_a_wrong_password(make, db):
    user = make.user()
    db.session.commit()

    def attempt(email):
        def _attempt():
            with pytest.raises(AccountError, match=re.escape("Adresse courriel ou mot de passe invalide.")):
                authenticate(email, "pas-le-bon", now=utcnow())

        return _attempt

    passwords.check_against_nothing("préchauffage")  # the unused hash is made once, on first use
    wrong_password = _fastest(attempt(user.email))
    unknown_email = _fastest(attempt("personne@example.com"))
    # Without the check against an unused hash, an unknown email answers about a hundred times faster.
    assert unknown_email > wrong_password / 3
