"""Catalogue for the office: courses, tutors (with their courses) and coupons."""

from flask import url_for
from flask_admin.contrib.sqla.filters import BooleanEqualFilter
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select
from sqlalchemy.orm import joinedload
from wtforms.validators import InputRequired, NumberRange, Regexp, ValidationError

from .. import catalog, coupons
from ..extensions import db
from ..formatting import local_datetime, money
from ..models import COUPON_KIND_LABELS, Coupon, CouponRedemption, Course, Order, Role, Tutor, User, utcnow
from ..models.catalog import SLUG_PATTERN
from ..pricing import MAX_HOURLY_RATE_CENTS
from .base import OFFICE, SecureModelView
from .columns import (
    choices,
    coupon_value_column,
    label_column,
    money_column,
)
from .fields import LocalDateTimeField, MoneyField
from .orders import OrderColumns

POSITIVE_AMOUNT = NumberRange(min=1, message="Le montant doit être supérieur à zéro.")
RATE_CEILING = NumberRange(
    max=MAX_HOURLY_RATE_CENTS, message=f"Le taux horaire ne peut pas dépasser {money(MAX_HOURLY_RATE_CENTS)}."
)
BAD_SLUG = (
    "Identifiant d'URL invalide : lettres minuscules sans accents, chiffres et traits d'union "
    "entre les mots seulement (ex. mat-1000)."
)


def _strip_lower(value):
    return value.strip().lower() if isinstance(value, str) else value


def _coupon_code(value):
    return coupons.normalize_code(value) if isinstance(value, str) else value


def _tutors():
    return db.session.scalars(select(Tutor).order_by(Tutor.display_name))


def _courses():
    return db.session.scalars(select(Course).order_by(Course.title))


def _tutor_accounts():
    return db.session.scalars(select(User).where(User.role == Role.TUTOR).order_by(User.email))


class CourseView(SecureModelView):
    """Courses and which tutors teach them; a course with history is deactivated, never deleted."""

    allowed_roles = OFFICE
    can_delete = False
    column_list = ["title", "sigle", "institution", "rate_cents", "tutors", "active"]
    column_details_list = [
        "slug",
        "title",
        "full_name",
        "sigle",
        "institution",
        "description",
        "rate_cents",
        "tutors",
        "active",
        "created_at",
    ]
    column_searchable_list = ["title", "full_name", "sigle", "slug", "institution"]
    column_filters = [BooleanEqualFilter(Course.active, "Actif")]
    column_sortable_list = ["title", "sigle", "institution", "rate_cents", "active"]
    column_default_sort = "title"
    column_labels = {
        "slug": "Identifiant d'URL",
        "title": "Titre",
        "full_name": "Nom complet",
        "sigle": "Sigle",
        "institution": "Établissement",
        "description": "Description",
        "rate_cents": "Tarif étudiant (par heure)",
        "tutors": "Tuteurs",
        "active": "Actif",
        "created_at": "Créé le",
    }
    column_formatters = {"rate_cents": money_column}
    form_columns = [
        "title",
        "slug",
        "full_name",
        "sigle",
        "institution",
        "description",
        "rate_cents",
        "tutors",
        "active",
    ]
    form_overrides = {"rate_cents": MoneyField}
    form_args = {
        "slug": {
            "filters": [_strip_lower],
            "validators": [Regexp(SLUG_PATTERN, message=BAD_SLUG)],
            "description": "Minuscules sans accents, chiffres et traits d'union (ex. mat-1000).",
        },
        "rate_cents": {"validators": [InputRequired(), POSITIVE_AMOUNT, RATE_CEILING]},
        "tutors": {"query_factory": _tutors},
    }

    def on_model_change(self, form, model, is_created):
        if is_created:
            # Flushed here, not after the commit: the event is written with the course or not at all.
            db.session.flush()
            catalog.announce_course(model, utcnow())


class TutorView(SecureModelView):
    """Tutors: linked account, rate, priority, contact and the courses they teach."""

    allowed_roles = OFFICE
    can_delete = False
    column_list = [
        "display_name",
        "user",
        "hourly_rate_cents",
        "priority",
        "contact_email",
        "phone",
        "active",
    ]
    column_details_list = [
        "display_name",
        "user",
        "bio",
        "contact_email",
        "phone",
        "hourly_rate_cents",
        "priority",
        "courses",
        "active",
        "created_at",
    ]
    column_searchable_list = ["display_name", "contact_email", "phone"]
    column_filters = [BooleanEqualFilter(Tutor.active, "Actif")]
    column_sortable_list = ["display_name", "hourly_rate_cents", "priority", "active"]
    column_default_sort = "priority"
    column_labels = {
        "display_name": "Nom affiché",
        "user": "Compte",
        "bio": "Présentation",
        "contact_email": "Adresse courriel de contact",
        "phone": "Téléphone",
        "hourly_rate_cents": "Taux horaire du tuteur",
        "priority": "Priorité",
        "courses": "Cours",
        "active": "Actif",
        "created_at": "Créé le",
    }
    column_formatters = {"hourly_rate_cents": money_column}
    form_columns = [
        "user",
        "display_name",
        "bio",
        "contact_email",
        "phone",
        "hourly_rate_cents",
        "priority",
        "courses",
        "active",
    ]
    form_overrides = {"hourly_rate_cents": MoneyField}
    form_args = {
        "user": {"query_factory": _tutor_accounts, "validators": [InputRequired()]},
        "hourly_rate_cents": {"validators": [InputRequired(), POSITIVE_AMOUNT, RATE_CEILING]},
        "priority": {
            "validators": [NumberRange(min=0, message="La priorité ne peut pas être négative.")],
            "description": "Plus petit = servi en premier quand plusieurs tuteurs sont libres.",
        },
        "courses": {"query_factory": _courses},
    }

    def on_model_change(self, form, model, is_created):
        with db.session.no_autoflush:
            taken = db.session.scalar(select(Tutor.id).where(Tutor.user_id == model.user.id, Tutor.id != model.id))
        if taken is not None:
            raise ValidationError("Ce compte a déjà un profil de tuteur.")
        if not is_created:
            catalog.record_rate_change(model, current_user, utcnow())


#: How many of a coupon's orders its page lists (the orders list, filtered on it, has them all).
COUPON_ORDERS_SHOWN = 50


def _coupon_orders_column(_view, _context, coupon, _name):
    """The paid orders that used the coupon, newest first: number, date, student, discount."""
    endpoint = "accounting_orders" if current_user.role == Role.ACCOUNTANT else "orders"
    total = coupon.paid_redemptions
    if not total:
        return "Aucune commande payée n'a utilisé ce coupon."
    rows = db.session.execute(
        select(Order, CouponRedemption.discount_cents)
        .join(CouponRedemption, CouponRedemption.order_id == Order.id)
        .where(CouponRedemption.coupon_id == coupon.id)
        .options(joinedload(Order.user))
        .order_by(Order.created_at.desc(), Order.id.desc())
        .limit(COUPON_ORDERS_SHOWN)
    ).all()
    rows = [
        Markup('<a href="{}">Commande #{}</a>').format(url_for(f"{endpoint}.details_view", id=order.id), order.id)
        + escape(f" — {local_datetime(order.created_at)} — {order.user.full_name} — rabais {money(discount)}")
        for order, discount in rows
    ]
    link = url_for(f"{endpoint}.index_view", **{OrderColumns.coupon_filter_arg(): coupon.id})
    rows.append(Markup('<a href="{}">Toutes les commandes de ce coupon ({})</a>').format(link, total))
    return Markup("<br>").join(rows)


class CouponColumns:
    """A coupon and its usage (paid orders and the discount they got), for the office and the accountant."""

    column_list = [
        "code",
        "kind",
        "value",
        "starts_at",
        "ends_at",
        "paid_redemptions",
        "discount_given_cents",
        "redemptions_count",
        "max_redemptions",
        "first_order_only",
        "max_uses_per_student",
        "active",
    ]
    column_details_list = [*column_list, "description", "created_at", "orders"]
    column_searchable_list = ["code", "description"]
    column_filters = [BooleanEqualFilter(Coupon.active, "Actif")]
    column_sortable_list = [
        "code",
        "starts_at",
        "ends_at",
        "paid_redemptions",
        "discount_given_cents",
        "redemptions_count",
        "active",
    ]
    column_default_sort = ("created_at", True)
    column_labels = {
        "code": "Code",
        "description": "Description",
        "kind": "Type",
        "value": "Valeur",
        "starts_at": "Valide à partir du",
        "ends_at": "Valide jusqu'au",
        "max_redemptions": "Utilisations permises",
        "first_order_only": "Première commande seulement",
        "max_uses_per_student": "Utilisations max. par étudiant",
        "redemptions_count": "Utilisations réservées",
        "paid_redemptions": "Commandes payées",
        "discount_given_cents": "Rabais accordés",
        "active": "Actif",
        "created_at": "Créé le",
        "orders": "Commandes",
    }
    column_descriptions = {
        "redemptions_count": "Comptées dès le début du paiement, pour que la limite tienne.",
    }
    column_formatters = {
        "kind": label_column(COUPON_KIND_LABELS),
        "value": coupon_value_column,
        "discount_given_cents": money_column,
        "orders": _coupon_orders_column,
    }


class CouponView(CouponColumns, SecureModelView):
    """Discount codes; a used coupon is deactivated rather than deleted."""

    allowed_roles = OFFICE
    can_delete = False
    form_columns = [
        "code",
        "description",
        "kind",
        "value",
        "starts_at",
        "ends_at",
        "max_redemptions",
        "first_order_only",
        "max_uses_per_student",
        "active",
    ]
    form_choices = {"kind": choices(COUPON_KIND_LABELS)}
    form_overrides = {"starts_at": LocalDateTimeField, "ends_at": LocalDateTimeField}
    form_args = {
        "code": {"filters": [_coupon_code]},
        "value": {
            "validators": [
                InputRequired(),
                NumberRange(min=1, message="La valeur doit être positive."),
            ],
            "description": ("Pourcentage entier (ex. 15) ou montant fixe en cents (ex. 1000 = 10,00 $)."),
        },
        "max_redemptions": {
            "validators": [NumberRange(min=1, message="Au moins une utilisation.")],
            "description": "Vide = illimité.",
        },
        "first_order_only": {"description": "Seulement pour la première commande payée d'un étudiant."},
        "max_uses_per_student": {
            "validators": [NumberRange(min=1, message="Au moins une utilisation par étudiant.")],
            "description": "Commandes payées par étudiant avec ce code. Vide = illimité.",
        },
    }

    def on_model_change(self, form, model, is_created):
        try:
            coupons.check_terms(model)
        except coupons.CouponError as exc:
            raise ValidationError(str(exc)) from exc
