"""Administrators' settings page: the rules the application runs with, read from its configuration."""

from flask import current_app
from flask_admin import expose
from sqlalchemy.engine import make_url

from ..payments import get_gateway
from .base import ADMIN_ONLY, SecureView

BOOKING_SETTINGS = [
    ("BOOKING_LEAD_TIME_HOURS", "Délai minimal avant une séance", "h"),
    ("BOOKING_HORIZON_DAYS", "Réservation possible jusqu'à", "jours"),
    ("HOLD_MINUTES", "Durée de retenue d'un créneau au panier", "min"),
]


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
        ]
        return self.render(
            "admin/settings.html", sections=[("Réservations", rows), ("Paiements", payments), ("Système", system)]
        )
