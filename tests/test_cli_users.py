"""`flask create-user` asks for the password and stores only its hash."""

from tutoradmin.models import User


def test_create_user_makes_an_account_with_the_role(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "accountant", "--email", "Compta@4AS.ca"],
        input="un-long-secret\nun-long-secret\n",
    )
    assert result.exit_code == 0, result.output
    user = User.find_by_email("compta@4as.ca")
    assert user.role == "accountant"
    assert user.check_password("un-long-secret")
    assert "un-long-secret" not in user.password_hash


def test_create_user_refuses_a_taken_email(app, db, make):
    make.user(email="pris@4as.ca")
    db.session.commit()
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "staff", "--email", "PRIS@4as.ca"],
        input="un-long-secret\nun-long-secret\n",
    )
    assert result.exit_code != 0
    assert "Un compte existe déjà" in result.output
    assert db.session.query(User).count() == 1


def test_create_user_refuses_a_short_password(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "staff", "--email", "court@4as.ca"], input="court\ncourt\n"
    )
    assert result.exit_code != 0
    assert "au moins 8 caractères" in result.output
    assert User.find_by_email("court@4as.ca") is None


def test_create_user_refuses_an_unknown_role(app, db):
    result = app.test_cli_runner().invoke(
        args=["create-user", "--role", "boss", "--email", "x@4as.ca"], input="un-long-secret\nun-long-secret\n"
    )
    assert result.exit_code != 0
    assert db.session.query(User).count() == 0
