"""Administrators' settings page: the rules the application runs with, read from its configuration."""

from urllib.parse import urlsplit

from flask import current_app, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy.engine import make_url
from wtforms import StringField

from .. import attendance
from ..forms import BaseForm
from ..models import ATTACHMENT_MAX_BYTES, ATTACHMENTS_PER_MESSAGE, EVENT_FAMILY_NAMES, utcnow
from ..payments import get_gateway
from .base import ADMIN_ONLY, SecureView, form_status, perform

BOOKING_SETTINGS = [
    ("BOOKING_LEAD_TIME_HOURS", "Délai minimal avant une séance", "h"),
    ("BOOKING_HORIZON_DAYS", "Réservation possible jusqu'à", "jours"),
    ("HOLD_MINUTES", "Durée de retenue d'un créneau au panier", "min"),
    ("CALENDAR_CACHE_SECONDS", "Délai d'affichage d'un créneau pris par un autre visiteur", "s"),
]

#: What each family of outbound events covers, in the office's words.
FAMILY_LABELS = {
    "ACCOUNT": "Comptes (inscription, mot de passe)",
    "BOOKING": "Séances (réservation, annulation, rappel, présence)",
    "TICKET": "Billets de support",
    "MESSAGE": "Messages",
    "PAYMENT": "Remboursements",
    "TUTOR": "Tuteurs (paie, disponibilités, taux)",
    "COURSE": "Cours",
}


def _policy_field(name):
    label, _low, _high = attendance.POLICY_FIELDS[name]
    return StringField(label, render_kw={"inputmode": "numeric"})


class AttendancePolicyForm(BaseForm):
    """The policy's five figures, as typed: the domain checks they are whole numbers in range."""

    late_cancel_window_hours = _policy_field("late_cancel_window_hours")
    late_cancel_credit_percent = _policy_field("late_cancel_credit_percent")
    no_show_credit_percent = _policy_field("no_show_credit_percent")
    late_cancel_tutor_percent = _policy_field("late_cancel_tutor_percent")
    no_show_tutor_percent = _policy_field("no_show_tutor_percent")


def _host(url):
    # The path of a webhook URL is its secret (anyone who knows it can post to the scenario): show the host only.
    return urlsplit(url).hostname or "?"


def _outbox_rows(config):
    urls = config["OUTBOX_WEBHOOK_URLS"]
    default = urls.get("*")
    rows = [
        ("Adresse publique du site (liens des courriels)", config["PUBLIC_BASE_URL"], "PUBLIC_BASE_URL"),
        ("Webhook par défaut", _host(default) if default else "aucun", "OUTBOX_WEBHOOK_URL"),
    ]
    for family in EVENT_FAMILY_NAMES:
        url = urls.get(family)
        if url:
            value = _host(url)
        elif default:
            value = f"par défaut ({_host(default)})"
        else:
            value = "aucun : ces événements restent en attente"
        rows.append((f"Webhook — {FAMILY_LABELS.get(family, family)}", value, f"OUTBOX_WEBHOOK_URL_{family}"))
    # Without a secret of its own, the outbox signs with SECRET_KEY (config.py): receivers cannot be given that.
    signed = config.get("OUTBOX_SIGNING_SECRET") not in (None, "", config.get("SECRET_KEY"))
    rows.append(("Secret de signature des envois", "configuré" if signed else "absent", "OUTBOX_SIGNING_SECRET"))
    return rows


def _attachment_rows(config):
    """Where attachments go; the S3 rows only when that is the store (the secret key is never shown)."""
    rows = [
        (
            "Stockage des pièces jointes",
            "S3" if config["ATTACHMENT_STORAGE"] == "s3" else "base de données",
            "ATTACHMENT_STORAGE",
        ),
        (
            "Taille et nombre des pièces jointes",
            f"{ATTACHMENT_MAX_BYTES // (1024 * 1024)} Mo par fichier, {ATTACHMENTS_PER_MESSAGE} par message",
            "—",
        ),
    ]
    if config["ATTACHMENT_STORAGE"] == "s3":
        endpoint = config["ATTACHMENT_S3_ENDPOINT_URL"]
        credentials = config["ATTACHMENT_S3_ACCESS_KEY_ID"] and config["ATTACHMENT_S3_SECRET_ACCESS_KEY"]
        rows += [
            ("Compartiment S3", config["ATTACHMENT_S3_BUCKET"], "ATTACHMENT_S3_BUCKET"),
            ("Service S3", _host(endpoint) if endpoint else "Amazon S3", "ATTACHMENT_S3_ENDPOINT_URL"),
            ("Région S3", config["ATTACHMENT_S3_REGION"], "ATTACHMENT_S3_REGION"),
            (
                "Identifiants S3",
                "configurés" if credentials else "ceux du serveur (rôle ou variables AWS_*)",
                "ATTACHMENT_S3_ACCESS_KEY_ID",
            ),
        ]
    return rows


class SettingsView(SecureView):
    """Read-only: these settings come from the environment (see the README), never from a form."""

    allowed_roles = ADMIN_ONLY

    @expose("/")
    def index(self):
        config = current_app.config
        gateway = get_gateway(config)
        rows = [(label, f"{config[key]} {unit}", key) for key, label, unit in BOOKING_SETTINGS]
        payments = [
            (
                "Processeur de paiement",
                "Stripe" if not gateway.simulated else "Simulé (aucune clé Stripe)",
                "STRIPE_SECRET_KEY",
            ),
            (
                "Secret du webhook Stripe",
                "configuré" if config.get("STRIPE_WEBHOOK_SECRET") else "absent",
                "STRIPE_WEBHOOK_SECRET",
            ),
        ]
        system = [
            ("Base de données", make_url(config["SQLALCHEMY_DATABASE_URI"]).get_backend_name(), "DATABASE_URL"),
            (
                "Limites de connexion",
                config.get("RATELIMIT_STORAGE_URI", "memory://").split(":", 1)[0],
                "RATELIMIT_STORAGE_URI",
            ),
            ("Mandataires inverses de confiance", str(config["TRUSTED_PROXIES"]), "TRUSTED_PROXIES"),
            ("Niveau de journalisation", config.get("LOG_LEVEL", "INFO"), "LOG_LEVEL"),
            ("Suivi des erreurs (Sentry)", "activé" if config.get("SENTRY_DSN") else "désactivé", "SENTRY_DSN"),
        ]
        return self.render(
            "admin/settings.html",
            sections=[
                ("Réservations", rows),
                ("Paiements", payments),
                ("Envois sortants (Make.com)", _outbox_rows(config)),
                ("Pièces jointes", _attachment_rows(config)),
                ("Système", system),
            ],
            policy=attendance.current_policy(),
        )

    @expose("/presence", methods=("GET", "POST"))
    def attendance_policy(self):
        """The attendance policy: the version in force, a form for a new one (audited), and past versions."""
        form = AttendancePolicyForm(data=attendance.policy_values(attendance.current_policy()))
        if form.validate_on_submit():
            values = {name: form[name].data for name in attendance.POLICY_FIELDS}
            done = perform(
                lambda: attendance.change_policy(current_user, values, utcnow()),
                "Politique de présence enregistrée : elle s'applique aux séances notées à partir de maintenant.",
                url_for(".attendance_policy"),
            )
            if done:
                return done
        return self.render(
            "admin/attendance_policy.html",
            form=form,
            history=attendance.policy_history(),
            fields=attendance.POLICY_FIELDS,
            grace_hours=current_app.config["ATTENDANCE_GRACE_HOURS"],
            notice_hours=current_app.config["CANCELLATION_NOTICE_HOURS"],
        ), form_status()
