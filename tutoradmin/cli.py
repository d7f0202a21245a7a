"""Command-line tasks (thin wrappers over domain functions)."""

import signal

import click
from flask import current_app
from flask.cli import with_appcontext

from .accounts import AccountError, create_user
from .attendance import mark_defaults
from .checkout import expire_abandoned
from .delivery import StopFlag, deliver_due, run_worker
from .demo import seed_demo
from .demo.data import DEMO_PASSWORD
from .extensions import db
from .holds import sweep_expired_holds
from .integrity import CHECKS, broken_invariants
from .models import Role, utcnow
from .payments import GatewayError, get_gateway
from .reconcile import DEFAULT_DAYS, reconcile_payments
from .reminders import send_reminders


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


KEPT_PASSWORD = "(compte existant, mot de passe inchangé)"


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load the demo data (only what is missing) and print the demo accounts."""
    if current_app.config["PRODUCTION"]:
        raise click.ClickException("Refusé : les données de démonstration ne peuvent pas être chargées en production.")
    report = seed_demo(now=utcnow())
    db.session.commit()
    if report.created:
        added = ", ".join(f"{count} {label}" for label, count in report.created.items())
        click.echo(f"Données de démonstration ajoutées : {added}.")
    else:
        click.echo("Données de démonstration déjà présentes : rien à ajouter.")
    click.echo("\nComptes de démonstration :")
    click.echo(f"  {'Rôle':<16}{'Courriel':<30}Mot de passe")
    for account in report.accounts:
        password = DEMO_PASSWORD if account.has_demo_password else KEPT_PASSWORD
        click.echo(f"  {account.role_label:<16}{account.email:<30}{password}")


@click.command("expire-holds")
@with_appcontext
def expire_holds_command():
    """Release the holds whose 15 minutes are over, then abandon the orders left without any (for cron)."""
    now = utcnow()
    released = sweep_expired_holds(now)
    abandoned = expire_abandoned(now, get_gateway(current_app.config))
    db.session.commit()
    click.echo(f"Réservations temporaires expirées libérées : {released}.")
    click.echo(f"Commandes abandonnées annulées : {abandoned}.")


@click.command("complete-appointments")
@with_appcontext
def complete_appointments_command():
    """Mark présent the sessions still unmarked ATTENDANCE_GRACE_HOURS after their end (for cron, hourly)."""
    grace_hours = current_app.config["ATTENDANCE_GRACE_HOURS"]
    marked = mark_defaults(utcnow(), grace_hours)
    db.session.commit()
    click.echo(f"Séances non notées {grace_hours} h après leur fin, marquées « présent » : {marked}.")


@click.command("send-reminders")
@with_appcontext
def send_reminders_command():
    """Queue the reminder of each session starting within 24 hours, once per session (for cron)."""
    queued = send_reminders(utcnow())
    db.session.commit()
    click.echo(f"Rappels de séance mis en file d'envoi : {queued}.")


@click.command("deliver-outbox")
@click.option("--loop", is_flag=True, help="Livrer en continu (service) au lieu d'un seul passage (cron).")
@with_appcontext
def deliver_outbox_command(loop):
    """Post the due outbox events to their webhooks (cron, every minute; --loop for a long-lived worker)."""
    config = current_app.config
    if not any(config["OUTBOX_WEBHOOK_URLS"].values()):
        click.echo("Aucune URL OUTBOX_WEBHOOK_URL n'est configurée : les événements restent en attente.")
    if loop:
        stop = StopFlag()
        # SIGTERM (systemd, docker stop) or Ctrl-C: finish the event in hand, hand the rest back, then exit.
        signal.signal(signal.SIGTERM, stop.request)
        signal.signal(signal.SIGINT, stop.request)
        click.echo("Livraison en continu ; SIGTERM ou Ctrl-C pour arrêter.")
        counts = run_worker(config, stop)
        click.echo("Arrêt demandé : livraison arrêtée proprement.")
    else:
        counts = deliver_due(utcnow(), config)
    click.echo(f"Événements livrés : {counts.delivered}.")
    click.echo(f"Événements à réessayer plus tard : {counts.retried}.")
    click.echo(f"Événements en échec définitif : {counts.failed}.")
    click.echo(f"Événements refusés par le destinataire (410) : {counts.stopped}.")


@click.command("reconcile-payments")
@click.option(
    "--days", default=DEFAULT_DAYS, show_default=True, type=click.IntRange(1, 90), help="Jours de paiements à vérifier."
)
@with_appcontext
def reconcile_payments_command(days):
    """Check the gateway's recent payments against the orders and apply what the webhook missed (for cron)."""
    try:
        result = reconcile_payments(utcnow(), get_gateway(current_app.config), days)
    except GatewayError as exc:
        db.session.rollback()
        raise click.ClickException(str(exc)) from exc
    db.session.commit()
    for line in result.summary():
        click.echo(line)


@click.command("check-integrity")
@with_appcontext
def check_integrity_command():
    """Check the booking and money invariants; exits non-zero if any is broken (for cron)."""
    broken = broken_invariants()
    for check in CHECKS:
        rows = broken.get(check.name, [])
        click.echo(f"{'ÉCHEC' if rows else 'ok':<6}{check.label} : {len(rows)}")
        for row in rows[:SHOWN_ROWS]:
            click.echo(f"        {tuple(row)}")
        if len(rows) > SHOWN_ROWS:
            click.echo(f"        … et {len(rows) - SHOWN_ROWS} autres")
    if broken:
        raise click.ClickException(f"{len(broken)} invariant(s) non respecté(s).")
    click.echo("Intégrité vérifiée : aucun problème.")


SHOWN_ROWS = 20


def register_cli(app):
    app.cli.add_command(create_user_command)
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(expire_holds_command)
    app.cli.add_command(complete_appointments_command)
    app.cli.add_command(check_integrity_command)
    app.cli.add_command(reconcile_payments_command)
    app.cli.add_command(send_reminders_command)
    app.cli.add_command(deliver_outbox_command)
