"""The accountant's month-end pack (SPEC §9): a local month's money as CSV files in one ZIP.

Every file reads its figures through the definitions the pages use, so that its totals are theirs:
payments and refunds through revenue's (reports.collected_entries, reports.refunded_entries), revenue
by course through the revenue report itself, tutors through the statements (statements.month_overview,
payouts.fit), credits through the ledger's signed amounts (credits.signed_cents), coupon discounts
through their redemptions (the coupons' usage). A fixed number of statements, whatever the month holds.

Pure functions: `month_pack` returns rows and totals, `archive` the ZIP's bytes; the view serves them.
"""

import io
import zipfile
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import and_, case, func, or_, select

from . import reports, statements
from .credits import signed_cents
from .errors import DomainError
from .extensions import db
from .localtime import month_bounds, month_is_over, month_of, next_month
from .models import (
    PAYOUT_STATUS_LABELS,
    Coupon,
    CouponRedemption,
    CreditEntry,
    CreditKind,
    Order,
    Payment,
    PayoutAdjustment,
    PayoutStatus,
    Refund,
    User,
)
from .payouts import adjustments_where, first_day, fit
from .receipts import RECEIPT_STATUSES

CENT = Decimal("0.01")
#: The status of a tutor's month still running, as the payout pages say it.
CURRENT_MONTH = "Mois en cours"


class MonthEndError(DomainError):
    """A month the pack cannot cover; the message is for the user."""


def check_month(start, now):
    """Refuse a month the statements cannot hold, or one that has not begun at `now`."""
    first_day(start.year, start.month)
    if start > month_of(now):
        raise MonthEndError("Ce mois n'est pas encore commencé : choisissez un mois passé ou le mois en cours.")
    return start


def dollars(cents):
    """12345 → Decimal('123.45'), for a spreadsheet to add up exactly."""
    return Decimal(cents).scaleb(-2).quantize(CENT)


def hours(minutes):
    """90 → Decimal('1.50')."""
    return (Decimal(minutes or 0) / 60).quantize(CENT)


@dataclass(frozen=True)
class Total:
    """One figure of a file, for the summary: an amount in cents, or a count when `money` is false."""

    label: str
    value: int
    money: bool = True

    @property
    def cell(self):
        return dollars(self.value) if self.money else self.value


@dataclass(frozen=True)
class CsvFile:
    """One file of the pack: its name, header, rows of typed values, and its totals."""

    name: str
    header: list
    rows: list
    totals: list = field(default_factory=list)


#: The pack's files, in order, and what each holds (the page lists them).
CONTENTS = [
    ("paiements", "les paiements par carte réussis du mois, à la date du paiement (l'« Encaissé » des revenus)"),
    ("remboursements", "les remboursements réussis du mois, à la date du remboursement (le « Remboursé »)"),
    (
        "credits",
        "le crédit de chaque étudiant : solde au début, crédits émis, crédits utilisés, solde à la fin du mois "
        "(un passif : des séances dues)",
    ),
    ("coupons", "les commandes payées dans le mois avec un coupon : code et rabais"),
    ("tuteurs", "les relevés des tuteurs : heures, gains, ajustements, montant, paiement et confirmation"),
    ("revenus-par-cours", "les revenus du mois par cours, comme la page Revenus"),
    ("sommaire", "le mois, la date de génération et les totaux de chaque fichier"),
]


def _stem(start):
    return f"{start:%Y-%m}"


def file_name(stem, start):
    """paiements, 2026-10-01 → paiements-2026-10.csv."""
    return f"{stem}-{_stem(start)}.csv"


def _student_name():
    """SQL: a student's first and last names, as receipts show them."""
    return func.trim(User.first_name + " " + User.last_name)


def _dated(entries, start, key, *columns):
    """Rows [date, *columns, amount] of a revenue definition (a SELECT of `at` and `cents`) in a local month.

    Returns the rows, by date then `key`, and their total in cents; `key` is the first of `columns`.
    """
    begins, ends = month_bounds(start)
    found = entries.add_columns(*columns).subquery()
    rows = db.session.execute(
        select(found).where(found.c.at >= begins, found.c.at < ends).order_by(found.c.at, found.c[key])
    ).all()
    return [[at, *rest, dollars(cents)] for at, cents, *rest in rows], sum(row.cents for row in rows)


# --- payments and refunds (revenue's collected and refunded) ------------------------------


def payments_file(start):
    """Succeeded card payments of the month, by payment date: revenue's « Encaissé »."""
    entries = reports.collected_entries().join(Order, Order.id == Payment.order_id).join(User, User.id == Order.user_id)
    rows, cents = _dated(
        entries,
        start,
        "payment_id",
        Payment.id.label("payment_id"),
        Payment.order_id,
        Order.receipt_number,
        _student_name(),
        User.email,
        Payment.provider,
        Payment.gateway_payment_id,
    )
    return CsvFile(
        file_name("paiements", start),
        ["Date", "Paiement", "Commande", "Reçu", "Étudiant", "Adresse courriel", "Passerelle", "Référence", "Montant"],
        rows,
        [Total("Paiements", len(rows), money=False), Total("Encaissé", cents)],
    )


def refunds_file(start):
    """Succeeded refunds of the month, by refund date: revenue's « Remboursé »."""
    entries = reports.refunded_entries().join(Order, Order.id == Refund.order_id).join(User, User.id == Order.user_id)
    rows, cents = _dated(
        entries,
        start,
        "refund_id",
        Refund.id.label("refund_id"),
        Refund.order_id,
        Order.receipt_number,
        _student_name(),
        User.email,
        Refund.reason,
        Refund.gateway_refund_id,
    )
    return CsvFile(
        file_name("remboursements", start),
        ["Date", "Remboursement", "Commande", "Reçu", "Étudiant", "Adresse courriel", "Motif", "Référence", "Montant"],
        rows,
        [Total("Remboursements", len(rows), money=False), Total("Remboursé", cents)],
    )


# --- student credit (a liability) ---------------------------------------------------------


def credits_file(start):
    """Per student: credit balance at the start of the month, issued, used, balance at its end."""
    begins, ends = month_bounds(start)
    during = CreditEntry.created_at >= begins
    opening = func.sum(case((CreditEntry.created_at < begins, signed_cents()), else_=0))
    issued = func.sum(
        case((and_(during, CreditEntry.kind == CreditKind.CREDIT.value), CreditEntry.amount_cents), else_=0)
    )
    used = func.sum(case((and_(during, CreditEntry.kind == CreditKind.DEBIT.value), CreditEntry.amount_cents), else_=0))
    closing = func.sum(signed_cents())
    found = db.session.execute(
        select(User.id, _student_name(), User.email, opening, issued, used, closing)
        .join(CreditEntry, CreditEntry.user_id == User.id)
        .where(CreditEntry.created_at < ends)
        .group_by(User.id, User.first_name, User.last_name, User.email)
        # A student with nothing owed and nothing moving this month has no line.
        .having(or_(closing != 0, func.max(case((during, 1), else_=0)) == 1))
        .order_by(User.last_name, User.first_name, User.id)
    ).all()
    amounts = [[int(cents or 0) for cents in row[3:]] for row in found]
    rows = [[*row[:3], *map(dollars, cents)] for row, cents in zip(found, amounts, strict=True)]
    totals = [sum(column) for column in zip(*amounts, strict=True)] if amounts else [0, 0, 0, 0]
    return CsvFile(
        file_name("credits", start),
        [
            "Étudiant n°",
            "Étudiant",
            "Adresse courriel",
            "Solde au début",
            "Crédits émis",
            "Crédits utilisés",
            "Solde à la fin",
        ],
        rows,
        [
            Total("Étudiants", len(rows), money=False),
            Total("Solde au début", totals[0]),
            Total("Crédits émis", totals[1]),
            Total("Crédits utilisés", totals[2]),
            Total("Solde à la fin (passif)", totals[3]),
        ],
    )


# --- coupons ------------------------------------------------------------------------------


def coupons_file(start):
    """Orders paid in the month with a coupon, and the discount each got (the coupons' usage)."""
    begins, ends = month_bounds(start)
    found = db.session.execute(
        select(
            Order.paid_at,
            Order.id,
            Order.receipt_number,
            _student_name(),
            Coupon.code,
            Order.subtotal_cents,
            CouponRedemption.discount_cents,
            Order.total_cents,
        )
        .join(CouponRedemption, CouponRedemption.order_id == Order.id)
        .join(Coupon, Coupon.id == CouponRedemption.coupon_id)
        .join(User, User.id == Order.user_id)
        .where(Order.status.in_(RECEIPT_STATUSES), Order.paid_at >= begins, Order.paid_at < ends)
        .order_by(Order.paid_at, Order.id)
    ).all()
    rows = [[*row[:5], *map(dollars, row[5:])] for row in found]
    return CsvFile(
        file_name("coupons", start),
        ["Date", "Commande", "Reçu", "Étudiant", "Code", "Sous-total", "Rabais", "Payé par carte"],
        rows,
        [
            Total("Commandes avec coupon", len(rows), money=False),
            Total("Rabais accordés", sum(row.discount_cents for row in found)),
        ],
    )


# --- tutors (the payout pages' statements) ------------------------------------------------


@dataclass(frozen=True)
class TutorLine:
    """A tutor's statement of the month as the payout pages show it."""

    tutor: object
    minutes: int
    earnings_cents: int
    adjustments_cents: int
    status: str
    payout: object = None

    @property
    def is_paid(self):
        return self.payout is not None and self.payout.status == PayoutStatus.PAID

    @property
    def amount_cents(self):
        return self.earnings_cents + self.adjustments_cents


def tutor_lines(start, now):
    """Every tutor with sessions or a statement in the month: hours, earnings, adjustments, payment.

    A paid month is its locked snapshot; an unpaid one is live, with the pending adjustments that fit
    (payouts.fit), as statements.statement computes it — for every tutor at once.
    """
    overview = statements.month_overview(start.year, start.month)
    unpaid = [tutor.id for tutor, line in overview if not line.is_paid]
    pending = defaultdict(list)
    if unpaid:
        condition = and_(PayoutAdjustment.tutor_id.in_(unpaid), PayoutAdjustment.applied_payout_id.is_(None))
        for adjustment in adjustments_where(condition):
            pending[adjustment.tutor_id].append(adjustment)
    is_over = month_is_over(start, now)
    lines = []
    for tutor, line in overview:
        if line.is_paid:
            adjustments, status = line.payout.adjustments_cents, PAYOUT_STATUS_LABELS[PayoutStatus.PAID]
        else:
            applied, _carried = fit(line.earnings_cents, pending[tutor.id])
            adjustments = sum(a.amount_cents for a in applied)
            status = PAYOUT_STATUS_LABELS[PayoutStatus.PENDING] if is_over else CURRENT_MONTH
        lines.append(TutorLine(tutor, line.minutes, line.earnings_cents, adjustments, status, line.payout))
    return lines


def tutors_file(start, now):
    """One line per tutor: minutes, hours, earnings, adjustments, amount, status, payment date and confirmation."""
    lines = tutor_lines(start, now)
    rows = []
    for line in lines:
        paid = line.payout if line.is_paid else None
        rows.append(
            [
                line.tutor.id,
                line.tutor.display_name,
                line.minutes,
                hours(line.minutes),
                dollars(line.earnings_cents),
                dollars(line.adjustments_cents),
                dollars(line.amount_cents),
                line.status,
                paid is not None,
                paid.paid_at if paid else None,
                paid.confirmation_number if paid else None,
            ]
        )
    return CsvFile(
        file_name("tuteurs", start),
        [
            "Tuteur n°",
            "Tuteur",
            "Minutes",
            "Heures",
            "Gains",
            "Ajustements",
            "Montant",
            "Statut",
            "Payé",
            "Payé le",
            "Confirmation",
        ],
        rows,
        [
            Total("Tuteurs", len(rows), money=False),
            Total("Minutes", sum(line.minutes for line in lines), money=False),
            Total("Gains des tuteurs", sum(line.earnings_cents for line in lines)),
            Total("Ajustements", sum(line.adjustments_cents for line in lines)),
            Total("Montant payé ou à payer", sum(line.amount_cents for line in lines)),
        ],
    )


# --- revenue by course (the revenue page) -------------------------------------------------

#: (header, reports.Figures attribute), as the revenue page's tables.
REVENUE_AMOUNTS = [
    ("Encaissé", "collected_cents"),
    ("Remboursé", "refunded_cents"),
    ("Net", "net_cents"),
    ("Coût des tuteurs", "tutor_cost_cents"),
    ("Marge", "margin_cents"),
]


def _rate(figures):
    return None if figures.margin_rate is None else (figures.margin_rate * 100).quantize(CENT)


def revenue_file(start):
    """The revenue page's « Cumul par cours » for the month, and its totals (the month's row)."""
    report = reports.revenue_report(start, next_month(start) - timedelta(days=1))
    rows = [
        [
            share.name,
            *[dollars(getattr(share.figures, name)) for _header, name in REVENUE_AMOUNTS],
            _rate(share.figures),
        ]
        for share in report.by_course
    ]
    return CsvFile(
        file_name("revenus-par-cours", start),
        ["Cours", *[header for header, _name in REVENUE_AMOUNTS], "Marge (%)"],
        rows,
        [Total(header, getattr(report.total, name)) for header, name in REVENUE_AMOUNTS],
    )


# --- the pack -----------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthPack:
    """A month's files, generated at `generated_at`."""

    #: The first day of the local month.
    month: date
    generated_at: datetime
    files: list

    @property
    def name(self):
        return f"4as-fin-de-mois-{_stem(self.month)}.zip"

    def summary(self):
        """The summary file: the month, when it was generated, and each file's totals."""
        rows = [["", "Mois", _stem(self.month)], ["", "Généré le", self.generated_at]]
        for csv_file in self.files:
            rows += [[csv_file.name, total.label, total.cell] for total in csv_file.totals]
        return CsvFile(
            file_name("sommaire", self.month),
            ["Fichier", "Total", "Valeur"],
            rows,
        )


def month_pack(start, now):
    """Every file of the local month beginning on `start`, as it stands at `now`."""
    check_month(start, now)
    return MonthPack(
        month=start,
        generated_at=now,
        files=[
            payments_file(start),
            refunds_file(start),
            credits_file(start),
            coupons_file(start),
            tutors_file(start, now),
            revenue_file(start),
        ],
    )


def archive(pack, csv_text):
    """The ZIP's bytes: each file as `csv_text(header, rows)` makes it, then the summary."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as bundle:
        for csv_file in [*pack.files, pack.summary()]:
            bundle.writestr(csv_file.name, csv_text(csv_file.header, csv_file.rows))
    return out.getvalue()
