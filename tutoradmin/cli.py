"""Command-line tasks (thin wrappers over domain functions)."""

import click
from flask.cli import with_appcontext

from .accounts import AccountError, create_user
from .extensions import db
from .models import Role


@click.command("create-user")
@click.option("--role", type=click.Choice(Role.values()), required=True, help="Rôle du compte.")
@click.option("--email", required=True, help="Adresse courriel.")
@click.option("--first-name", default="", help="Prénom.")
@click.option("--last-name", default="", help="Nom.")
@click.password_option("--password", prompt="Mot de passe", confirmation_prompt="Confirmer")
@with_appcontext
def create_user_command(role, email, first_name, last_name, password):
    """Create an account with the given role (asks for the password)."""
    try:
        user = create_user(email, password, role=role, first_name=first_name, last_name=last_name)
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    click.echo(f"Compte créé : {user.email} ({user.role})")


def register_cli(app):
    app.cli.add_command(create_user_command)
