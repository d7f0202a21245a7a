"""User accounts and roles."""

import secrets
from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, Index, String, select
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from .. import passwords
from ..extensions import db
from .types import Choices, UTCDateTime, utcnow


class Role(Choices):
    ADMIN = "admin"
    STAFF = "staff"
    TUTOR = "tutor"
    ACCOUNTANT = "accountant"
    STUDENT = "student"


ROLE_LABELS = {
    Role.ADMIN: "Administrateur",
    Role.STAFF: "Personnel",
    Role.TUTOR: "Tuteur",
    Role.ACCOUNTANT: "Comptable",
    Role.STUDENT: "Étudiant",
}

BACK_OFFICE_ROLES = frozenset({Role.ADMIN, Role.STAFF, Role.TUTOR, Role.ACCOUNTANT})


class UserStatus(Choices):
    ACTIVE = "active"
    SUSPENDED = "suspended"


USER_STATUS_LABELS = {UserStatus.ACTIVE: "Actif", UserStatus.SUSPENDED: "Suspendu"}


def new_session_token():
    """A random value naming the account in session and remember-me cookies."""
    return secrets.token_urlsafe(32)


def normalize_email(email):
    """Canonical form of an email address: trimmed and lower-cased."""
    return (email or "").strip().lower()


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __table_args__ = (
        # Uniqueness is case-insensitive because only lower-case addresses can be stored.
        CheckConstraint("email = lower(email)", name="email_lowercase"),
        CheckConstraint("email LIKE '%_@_%'", name="email_shape"),
        Role.check("role", "role_allowed"),
        UserStatus.check("status", "status_allowed"),
        Index("uq_users_calendar_token", "calendar_token", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20), default=Role.STUDENT.value, index=True)
    status: Mapped[str] = mapped_column(String(20), default=UserStatus.ACTIVE.value)
    first_name: Mapped[str] = mapped_column(String(100), default="")
    last_name: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str | None] = mapped_column(String(40))
    stripe_customer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Cookies carry this instead of the id: replacing it signs the account out everywhere.
    session_token: Mapped[str] = mapped_column(String(64), unique=True, default=new_session_token)
    # The secret part of the private calendar feed URL (/calendrier/<token>.ics); None until asked for.
    calendar_token: Mapped[str | None] = mapped_column(String(64))

    tutor_profile: Mapped["Tutor | None"] = relationship(back_populates="user")  # noqa: F821

    @validates("email")
    def _normalize_email(self, _key, value):
        return normalize_email(value)

    def set_password(self, password):
        """Store the password's hash; a new password signs the account out everywhere."""
        self.password_hash = passwords.hash_password(password)
        self.rotate_session_token()

    def check_password(self, password):
        return passwords.matches(self.password_hash, password)

    def rotate_session_token(self):
        """Replace the token cookies carry: every session and remember-me cookie of the account stops working."""
        self.session_token = new_session_token()

    def get_id(self):
        """Flask-Login stores the session token, so cookies die when the token is replaced."""
        return self.session_token

    @property
    def is_active(self):
        """Flask-Login refuses sessions of suspended accounts."""
        return self.status == UserStatus.ACTIVE

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip() or self.email

    @property
    def is_back_office(self):
        return self.role in BACK_OFFICE_ROLES

    def has_role(self, *roles):
        return self.role in {str(r) for r in roles}

    @classmethod
    def find_by_email(cls, email):
        return db.session.scalar(select(cls).where(cls.email == normalize_email(email)))

    def __str__(self):
        return self.full_name
