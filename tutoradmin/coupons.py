"""Coupon validity and the discount it gives (SPEC §6)."""

from sqlalchemy import func, or_, select, update

from .errors import DomainError
from .extensions import db
from .models import Coupon, CouponKind, CouponRedemption, Order, OrderStatus
from .models.dates import OUTSIDE_BUSINESS_YEARS, within_business_years


class CouponError(DomainError):
    """A coupon refused, with the reason in French."""


UNKNOWN = "Ce code promo n'existe pas."
INACTIVE = "Ce code promo n'est plus actif."
EXPIRED = "Ce code promo est expiré."
NOT_YET_VALID = "Ce code promo n'est pas encore valide."
USED_UP = "Ce code promo a atteint sa limite d'utilisation."
FIRST_ORDER_ONLY = "Ce code est réservé à une première commande."
STUDENT_LIMIT = "Vous avez déjà utilisé ce code le nombre de fois permis."


def normalize_code(code):
    """A coupon code as stored: trimmed and upper-case, so that codes match whatever the case typed."""
    return (code or "").strip().upper()


def find_coupon(code):
    """The coupon with this code, matched case-insensitively."""
    code = normalize_code(code)
    if not code:
        return None
    return db.session.scalar(select(Coupon).where(Coupon.code == code))


def check_usable(coupon, now, reserved=0, student_id=None, cart_id=None):
    """Raise CouponError unless `coupon` can be applied at `now` (by `student_id`, when known).

    `reserved` counts uses already taken by the caller itself (its cart's pending order);
    `cart_id` is that cart, whose pending order the checkout replaces.
    """
    if coupon is None:
        raise CouponError(UNKNOWN)
    if not coupon.active:
        raise CouponError(INACTIVE)
    if coupon.starts_at is not None and now < coupon.starts_at:
        raise CouponError(NOT_YET_VALID)
    if coupon.ends_at is not None and now >= coupon.ends_at:
        raise CouponError(EXPIRED)
    if coupon.max_redemptions is not None and coupon.redemptions_count - reserved >= coupon.max_redemptions:
        raise CouponError(USED_UP)
    if student_id is not None:
        check_student(coupon, student_id, cart_id)
    return coupon


def _student_uses(coupon_id, student_id, cart_id):
    """The student's paid orders with this coupon, and their pending ones with it outside `cart_id`.

    Pending orders count so that two checkouts of one student (two carts) cannot both take a
    one-per-student code before either is paid.
    """
    paid = select(func.count(CouponRedemption.id)).where(
        CouponRedemption.coupon_id == coupon_id, CouponRedemption.user_id == student_id
    )
    pending = select(func.count(Order.id)).where(
        Order.user_id == student_id,
        Order.coupon_id == coupon_id,
        Order.status == OrderStatus.PENDING.value,
        Order.cart_id.is_distinct_from(cart_id),
    )
    return db.session.scalar(select(paid.scalar_subquery() + pending.scalar_subquery()))


def _has_paid_order(student_id):
    return (
        db.session.scalar(select(Order.id).where(Order.user_id == student_id, Order.paid_at.is_not(None)).limit(1))
        is not None
    )


def check_student(coupon, student_id, cart_id=None):
    """Raise CouponError if the student may no longer use `coupon` (first order only, uses per student).

    To hold under concurrent checkouts, the caller holds the student's row lock (`credits.lock_ledger`).
    """
    limit = coupon.max_uses_per_student
    if not coupon.first_order_only and limit is None:
        return
    uses = _student_uses(coupon.id, student_id, cart_id)
    if coupon.first_order_only and (uses or _has_paid_order(student_id)):
        raise CouponError(FIRST_ORDER_ONLY)
    if limit is not None and uses >= limit:
        raise CouponError(STUDENT_LIMIT)


def check_terms(coupon):
    """Refuse a coupon the office is saving whose value or validity dates make no sense."""
    if coupon.kind == CouponKind.PERCENT and coupon.value > 100:
        raise CouponError("Un pourcentage ne peut pas dépasser 100.")
    if not (within_business_years(coupon.starts_at) and within_business_years(coupon.ends_at)):
        raise CouponError(OUTSIDE_BUSINESS_YEARS)
    if coupon.starts_at and coupon.ends_at and coupon.ends_at <= coupon.starts_at:
        raise CouponError("La fin de validité doit suivre le début.")
    if coupon.max_uses_per_student is not None and coupon.max_uses_per_student < 1:
        raise CouponError("Au moins une utilisation par étudiant.")


def take_use(coupon_id):
    """Count one use of the coupon if its limit allows, in one UPDATE so that the limit holds under races."""
    taken = db.session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id)
        .where(or_(Coupon.max_redemptions.is_(None), Coupon.redemptions_count < Coupon.max_redemptions))
        .values(redemptions_count=Coupon.redemptions_count + 1)
    )
    return taken.rowcount == 1


def give_back_use(coupon_id):
    """Uncount one use of the coupon (an order that will not be paid)."""
    db.session.execute(
        update(Coupon)
        .where(Coupon.id == coupon_id, Coupon.redemptions_count > 0)
        .values(redemptions_count=Coupon.redemptions_count - 1)
    )


def discount_cents(coupon, subtotal_cents):
    """The discount on a subtotal: a percentage rounded half up, or a fixed amount capped at it."""
    if coupon is None or subtotal_cents <= 0:
        return 0
    if coupon.kind == CouponKind.PERCENT:
        return min(subtotal_cents, (subtotal_cents * coupon.value + 50) // 100)
    return min(subtotal_cents, coupon.value)
