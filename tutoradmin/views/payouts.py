"""Tutor payouts in the back office: a month's statements, and their payment by an administrator.

The office (administrators and staff) and the accountant each have their own view class and URL;
only an administrator's request may mark a month paid.
"""

from flask import abort, flash, redirect, request, url_for
from flask_admin import expose
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from wtforms import HiddenField, StringField

from .. import payouts, statements
from ..extensions import db
from ..formatting import hours, local_date, money, month_label
from ..forms import BaseForm
from ..localtime import add_months, month_is_over, month_of, previous_month, to_local
from ..models import PAYOUT_STATUS_LABELS, PayoutStatus, Tutor, utcnow
from ..params import ParamError, parse_date, parse_month, parse_optional_id
from . import csv_export
from .base import ACCOUNTING, ADMIN_ONLY, OFFICE, SecureView

RACE_MESSAGE = "Ce relevé vient d'être modifié par quelqu'un d'autre : rechargez la page."
#: How many months, the current one included, the statements page offers to pick from.
MONTHS_OFFERED = 36


class MarkPaidForm(BaseForm):
    tutor = HiddenField()
    month = HiddenField()
    confirmation_number = StringField(
        "Numéro de confirmation", render_kw={"maxlength": payouts.CONFIRMATION_MAX_LENGTH}
    )
    paid_on = StringField("Date du paiement", render_kw={"type": "date"})


def paid_note(payout):
    """Payé le 5 avril 2026 — confirmation VIR-0001."""
    return f"Payé le {local_date(to_local(payout.paid_at).date())} — confirmation {payout.confirmation_number}"


def month_options(selected, now):
    """(2026-10, octobre 2026) pairs of the months to pick from, newest first, `selected` among them.

    A list rather than a month input: browsers without one would show the raw 2026-10.
    """
    months = {add_months(month_of(now), -back) for back in range(MONTHS_OFFERED)} | {selected}
    return [(f"{month:%Y-%m}", month_label(month)) for month in sorted(months, reverse=True)]


def parse_year(value):
    """2026 — from a four-digit year, or ParamError in French."""
    text = (value or "").strip()
    if not (len(text) == 4 and text.isascii() and text.isdigit()):
        raise ParamError(f"Année invalide : « {value} » (format attendu AAAA).")
    return int(text)


def month_status(line, current_month):
    """Where a month of earnings stands: Payé, À payer, Mois en cours, À venir, or nothing."""
    if line.is_paid:
        return PAYOUT_STATUS_LABELS[PayoutStatus.PAID]
    if line.month == current_month:
        return "Mois en cours"
    if line.month > current_month:
        return "À venir"
    return PAYOUT_STATUS_LABELS[PayoutStatus.PENDING] if line.minutes else ""


#: What the statement templates use to display values.
DISPLAY = {
    "hours": hours,
    "paid_note": paid_note,
    "month_value": lambda day: f"{day:%Y-%m}",
    "month_status": month_status,
}

#: The columns of a tutor's earnings export, one row per month.
EARNINGS_CSV_HEADER = ["Mois", "Minutes", "Heures", "Gains", "Statut", "Payé le", "Confirmation"]


def earnings_csv_rows(lines, current_month):
    """A tutor's months as CSV rows: minutes, hours and dollars as plain numbers, dates in ISO."""
    return [
        [
            f"{line.month:%Y-%m}",
            line.minutes,
            csv_export.hours(line.minutes),
            csv_export.dollars(line.earnings_cents),
            month_status(line, current_month),
            to_local(line.payout.paid_at).date() if line.is_paid else None,
            line.payout.confirmation_number if line.is_paid else None,
        ]
        for line in lines
    ]


class StatementView(SecureView):
    """Pick a tutor and a month (by default the previous one): the statement, or the month's tutors."""

    allowed_roles = OFFICE
    title = "Paiements aux tuteurs"

    def can_mark_paid(self):
        return current_user.role in ADMIN_ONLY

    def _tutor(self, value):
        tutor_id = parse_optional_id(value)
        if tutor_id is None:
            return None
        tutor = db.session.get(Tutor, tutor_id)
        if tutor is None:
            abort(404)
        return tutor

    def _page(self, tutor, month, form=None, error=None, status=200):
        now = utcnow()
        context = {"tutor": tutor, "month": month, "error": error, "statement": None, "overview": None}
        if tutor is not None:
            statement = context["statement"] = statements.statement(tutor, month.year, month.month, now)
            # A month still running cannot be paid: no form until it is over.
            if self.can_mark_paid() and statement.is_over and not statement.is_paid:
                form = form or MarkPaidForm(
                    formdata=None,
                    tutor=tutor.id,
                    month=f"{month:%Y-%m}",
                    paid_on=to_local(now).date().isoformat(),
                )
                context["form"] = form
        else:
            context["overview"] = statements.month_overview(month.year, month.month)
            context["month_is_over"] = month_is_over(month, now)
        tutors = db.session.scalars(select(Tutor).order_by(Tutor.display_name, Tutor.id)).all()
        return self.render(
            "admin/payouts.html",
            title=self.title,
            tutors=tutors,
            month_options=month_options(month, now),
            **context,
            **DISPLAY,
        ), status

    @expose("/")
    def index(self):
        try:
            tutor = self._tutor(request.args.get("tuteur"))
            month = previous_month(utcnow())
            if request.args.get("mois"):
                month = parse_month(request.args["mois"])
                payouts.first_day(month.year, month.month)
        except (ParamError, payouts.PayoutError) as exc:
            return self._page(None, previous_month(utcnow()), error=str(exc), status=400)
        return self._page(tutor, month)


class PayoutView(StatementView):
    """The office's statements; an administrator marks a month paid from them."""

    @expose("/payer", methods=("POST",))
    def mark_paid(self):
        if not self.can_mark_paid():
            abort(403)
        form = MarkPaidForm()
        try:
            tutor = self._tutor(form.tutor.data)
            month = parse_month(form.month.data)
            payouts.first_day(month.year, month.month)
        except (ParamError, payouts.PayoutError):
            abort(400)
        if tutor is None:
            abort(404)
        if not form.validate():
            errors = " ".join(message for messages in form.errors.values() for message in messages)
            return self._page(tutor, month, form=form, error=errors, status=400)
        try:
            paid_on = parse_date(form.paid_on.data, "date du paiement") if form.paid_on.data else None
            payout = payouts.mark_paid(
                tutor,
                month.year,
                month.month,
                form.confirmation_number.data,
                paid_on,
                current_user,
                utcnow(),
            )
            db.session.commit()
        except (ParamError, payouts.PayoutError) as exc:
            db.session.rollback()
            return self._page(tutor, month, form=form, error=str(exc), status=400)
        except IntegrityError:
            # Another administrator paid the same month at the same moment.
            db.session.rollback()
            return self._page(tutor, month, error=RACE_MESSAGE, status=409)
        flash(
            f"Paiement enregistré : {tutor.display_name}, {month_label(month)}, "
            f"{money(payout.amount_cents)} (confirmation {payout.confirmation_number}).",
            "success",
        )
        return redirect(url_for(".index", tuteur=tutor.id, mois=f"{month:%Y-%m}"))


class AccountingStatementView(StatementView):
    """The same statements for the accountant, read-only."""

    allowed_roles = ACCOUNTING
    title = "Relevés des tuteurs"

    def can_mark_paid(self):
        return False
