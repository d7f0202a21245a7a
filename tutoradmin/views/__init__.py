"""The Flask-Admin back office: one Admin per application, menus filtered by role.

Each role has its own view classes and URLs; Flask-Admin shows a menu entry only to the roles
its view admits, so every role sees exactly its own menu.
"""

from flask_admin import Admin
from flask_admin.theme import Bootstrap4Theme

from ..extensions import db
from ..flags import dispute_reason_label
from ..models import (
    APPOINTMENT_STATUS_LABELS,
    DISPUTE_STATUS_LABELS,
    ORDER_STATUS_LABELS,
    PAYOUT_STATUS_LABELS,
    Appointment,
    AuditLog,
    AvailabilityException,
    Coupon,
    Course,
    CourseRequest,
    Order,
    OutboxEvent,
    Refund,
    Ticket,
    TimeOff,
    Tutor,
    TutorPayout,
    User,
    WeeklyRule,
)
from .accounting import (
    AccountingCouponView,
    AccountingOrderView,
    AccountingPayoutView,
)
from .availability import ExceptionView, TimeOffView, WeeklyRuleView
from .catalog import CouponView, CourseView, TutorView
from .course_requests import CourseRequestView, MyCoursesView
from .month_end import AccountingMonthEndView, OfficeMonthEndView
from .orders import OrderView
from .outbox import OutboxEventView
from .overview import OverviewView
from .payouts import AccountingStatementView, PayoutView
from .people import AuditLogView, StudentView, UserView
from .performance import PerformanceView
from .ratings import RatingView
from .refunds import AccountingRefundView, RefundView
from .revenue import AccountingRevenueView, OfficeRevenueView
from .sales import AppointmentView
from .settings import SettingsView
from .support import TicketView
from .tutor import (
    MyAppointmentView,
    MyExceptionView,
    MyPayoutView,
    MyTimeOffView,
    MyWeeklyRuleView,
)
from .tutor_profile import MyProfileView


def init_admin(app):
    """Build the back office for `app` (never at import time, so tests can build many apps)."""
    admin = Admin(
        app,
        name="4AS TutorAdmin",
        index_view=OverviewView(name="Vue d'ensemble", url="/admin", endpoint="admin"),
        theme=Bootstrap4Theme(base_template="admin/tutoradmin_base.html", fluid=True),
    )
    # Office: administrators and staff.
    admin.add_views(
        CourseView(Course, db, "Cours", category="Catalogue", endpoint="courses", url="cours"),
        TutorView(Tutor, db, "Tuteurs", category="Catalogue", endpoint="tutors", url="tuteurs"),
        CouponView(Coupon, db, "Coupons", category="Catalogue", endpoint="coupons", url="coupons"),
        CourseRequestView(
            CourseRequest,
            db,
            "Demandes de cours",
            category="Catalogue",
            endpoint="course_requests",
            url="demandes-de-cours",
        ),
        WeeklyRuleView(
            WeeklyRule,
            db,
            "Horaires hebdomadaires",
            category="Disponibilités",
            endpoint="weekly_rules",
            url="horaires",
        ),
        ExceptionView(
            AvailabilityException,
            db,
            "Exceptions",
            category="Disponibilités",
            endpoint="exceptions",
            url="exceptions",
        ),
        TimeOffView(TimeOff, db, "Congés", category="Disponibilités", endpoint="time_off", url="conges"),
        AppointmentView(
            Appointment,
            db,
            "Rendez-vous",
            category="Ventes",
            endpoint="appointments",
            url="rendez-vous",
        ),
        OrderView(Order, db, "Commandes", category="Ventes", endpoint="orders", url="commandes"),
        RefundView(Refund, db, "Remboursements", category="Ventes", endpoint="refunds", url="remboursements"),
        OfficeRevenueView(name="Revenus", category="Finances", endpoint="revenue", url="revenus"),
        PayoutView(name="Paiements aux tuteurs", category="Finances", endpoint="payouts", url="paiements-tuteurs"),
        StudentView(User, db, "Étudiants", category="Clientèle", endpoint="students", url="etudiants"),
        TicketView(Ticket, db, "Billets", category="Clientèle", endpoint="tickets", url="billets"),
    )
    # Office follow-up: tutors' performance, courses' activity, ratings and their moderation, deliveries.
    admin.add_views(
        PerformanceView(name="Performance", category="Suivi", endpoint="performance", url="performance"),
        RatingView(name="Évaluations", category="Suivi", endpoint="ratings", url="evaluations"),
        OutboxEventView(
            OutboxEvent,
            db,
            "Envois sortants",
            category="Suivi",
            endpoint="outbox",
            url="envois-sortants",
        ),
    )
    # Administrators only.
    admin.add_views(
        UserView(
            User,
            db,
            "Utilisateurs",
            category="Administration",
            endpoint="users",
            url="utilisateurs",
        ),
        AuditLogView(
            AuditLog,
            db,
            "Journal d'audit",
            category="Administration",
            endpoint="audit_log",
            url="journal",
        ),
        SettingsView(name="Paramètres", category="Administration", endpoint="settings", url="parametres"),
    )
    # The accountant: read-only, with exports.
    admin.add_views(
        AccountingRevenueView(
            name="Revenus",
            category="Comptabilité",
            endpoint="accounting_revenue",
            url="compta/revenus",
        ),
        AccountingOrderView(
            Order,
            db,
            "Commandes",
            category="Comptabilité",
            endpoint="accounting_orders",
            url="compta/commandes",
        ),
        AccountingRefundView(
            Refund,
            db,
            "Remboursements",
            category="Comptabilité",
            endpoint="accounting_refunds",
            url="compta/remboursements",
        ),
        AccountingPayoutView(
            TutorPayout,
            db,
            "Paiements aux tuteurs",
            category="Comptabilité",
            endpoint="accounting_payouts",
            url="compta/paiements-tuteurs",
        ),
        AccountingStatementView(
            name="Relevés des tuteurs",
            category="Comptabilité",
            endpoint="accounting_statements",
            url="compta/releves-tuteurs",
        ),
        AccountingCouponView(
            Coupon,
            db,
            "Coupons",
            category="Comptabilité",
            endpoint="accounting_coupons",
            url="compta/coupons",
        ),
        AccountingMonthEndView(
            name="Fin de mois", category="Comptabilité", endpoint="accounting_month_end", url="compta/fin-de-mois"
        ),
        # The same pack for administrators, beside the office's revenue.
        OfficeMonthEndView(name="Fin de mois", category="Finances", endpoint="month_end", url="fin-de-mois"),
    )
    # Tutors: their own rows only.
    admin.add_views(
        MyWeeklyRuleView(
            WeeklyRule,
            db,
            "Horaires hebdomadaires",
            category="Mes disponibilités",
            endpoint="my_weekly_rules",
            url="mes-horaires",
        ),
        MyExceptionView(
            AvailabilityException,
            db,
            "Exceptions",
            category="Mes disponibilités",
            endpoint="my_exceptions",
            url="mes-exceptions",
        ),
        MyTimeOffView(
            TimeOff,
            db,
            "Congés",
            category="Mes disponibilités",
            endpoint="my_time_off",
            url="mes-conges",
        ),
        MyAppointmentView(Appointment, db, "Mes rendez-vous", endpoint="my_appointments", url="mes-rendez-vous"),
        MyCoursesView(name="Mes cours", endpoint="my_courses", url="mes-cours"),
        MyPayoutView(TutorPayout, db, "Mes revenus", endpoint="my_payouts", url="mes-revenus"),
        MyProfileView(Tutor, db, "Mon profil", endpoint="my_profile", url="mon-profil"),
    )
    app.jinja_env.globals["order_status_label"] = ORDER_STATUS_LABELS.get
    app.jinja_env.globals["appointment_status_label"] = APPOINTMENT_STATUS_LABELS.get
    app.jinja_env.globals["payout_status_label"] = PAYOUT_STATUS_LABELS.get
    app.jinja_env.globals["dispute_status_label"] = DISPUTE_STATUS_LABELS.get
    app.jinja_env.globals["dispute_reason_label"] = dispute_reason_label
    return admin
