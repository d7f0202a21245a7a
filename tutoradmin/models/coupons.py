"""Discount coupons and their redemptions."""

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Integer, String, func, select
from sqlalchemy.orm import Mapped, column_property, mapped_column, relationship

from ..extensions import db
from .dates import business_instant_check
from .types import Choices, UTCDateTime, utcnow


class CouponKind(Choices):
    PERCENT = "percent"
    FIXED = "fixed"


COUPON_KIND_LABELS = {CouponKind.PERCENT: "Pourcentage", CouponKind.FIXED: "Montant fixe"}


class Coupon(db.Model):
    __tablename__ = "coupons"
    __table_args__ = (
        CheckConstraint("code = upper(code) AND code <> ''", name="code_uppercase"),
        CouponKind.check("kind", "kind_allowed"),
        # Percent coupons hold a whole percentage; fixed ones an amount in cents.
        CheckConstraint("value > 0", name="value_positive"),
        CheckConstraint("kind <> 'percent' OR value <= 100", name="percent_at_most_100"),
        CheckConstraint("starts_at IS NULL OR ends_at IS NULL OR ends_at > starts_at", name="end_after_start"),
        business_instant_check("starts_at", "starts_within_business_years"),
        business_instant_check("ends_at", "ends_within_business_years"),
        CheckConstraint("max_redemptions IS NULL OR max_redemptions > 0", name="max_positive"),
        CheckConstraint("max_uses_per_student IS NULL OR max_uses_per_student > 0", name="max_per_student_positive"),
        # The counter is bumped with an UPDATE at payment time, so the limit holds under races.
        CheckConstraint(
            "redemptions_count >= 0 AND (max_redemptions IS NULL OR redemptions_count <= max_redemptions)",
            name="redemptions_within_limit",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")
    kind: Mapped[str] = mapped_column(String(10))
    value: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    max_redemptions: Mapped[int | None] = mapped_column(Integer)
    # Only for a student's first paid order, and at most this many paid orders per student.
    first_order_only: Mapped[bool] = mapped_column(Boolean, default=False)
    max_uses_per_student: Mapped[int | None] = mapped_column(Integer)
    redemptions_count: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    redemptions: Mapped[list["CouponRedemption"]] = relationship(back_populates="coupon")

    def __str__(self):
        return self.code


class CouponRedemption(db.Model):
    """A coupon used by a paid order, with the discount it gave."""

    __tablename__ = "coupon_redemptions"
    __table_args__ = (CheckConstraint("discount_cents > 0", name="discount_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    coupon_id: Mapped[int] = mapped_column(ForeignKey("coupons.id", ondelete="RESTRICT"), index=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    discount_cents: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    coupon: Mapped[Coupon] = relationship(back_populates="redemptions")


# Usage of each coupon by paid orders, computed by the database when coupons are listed.
Coupon.paid_redemptions = column_property(
    select(func.count(CouponRedemption.id))
    .where(CouponRedemption.coupon_id == Coupon.id)
    .correlate_except(CouponRedemption)
    .scalar_subquery()
)
Coupon.discount_given_cents = column_property(
    select(func.coalesce(func.sum(CouponRedemption.discount_cents), 0))
    .where(CouponRedemption.coupon_id == Coupon.id)
    .correlate_except(CouponRedemption)
    .scalar_subquery()
)
