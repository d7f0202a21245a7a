"""The cart: adding slots under 15-minute holds, removing, merging, coupons and totals."""

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import bindparam, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import selectinload

from . import coupons
from .calendars import bookable_tutors, load_calendars, pick_tutors
from .errors import DomainError
from .extensions import db
from .holds import sweep_expired_holds
from .localtime import LOCAL_TZ
from .models import Cart, CartItem, Hold, Order, OrderStatus
from .occupancy import SLOT_TAKEN, SlotTaken, hold_cells
from .pricing import session_price
from .slots import find_slot

ALREADY_IN_CART = "Cet élément est déjà dans votre panier"
OVERLAPS_CART = "Ce créneau chevauche une séance déjà choisie."
ITEM_NOT_FOUND = "Élément introuvable"
NOTHING_TO_ADD = "Aucun créneau choisi."


class CartError(DomainError):
    """A cart operation refused: the slot is taken, or already in the cart, or overlaps it."""


class NoSlotChosen(CartError):
    """An add that asks for no slot at all."""


class CartItemNotFound(CartError):
    """No such item in this cart: someone else's, or removed already."""


@dataclass(frozen=True)
class SlotRequest:
    course: object
    starts_at: object
    duration_minutes: int
    tutor_id: int | None = None
    #: The course's tutors when the caller has read them with the course (offers.Offer), else None.
    tutors: tuple | None = None

    @property
    def ends_at(self):
        return self.starts_at + timedelta(minutes=self.duration_minutes)


def overlaps(a_start, a_end, b_start, b_end):
    """Half-open ranges overlap; back-to-back ones do not."""
    return a_start < b_end and b_start < a_end


def _owned_by(user, session_key):
    # The condition naming the owner's cart: a user's, or a guest's by their session key.
    return Cart.user_id == user.id if user is not None else Cart.session_key == session_key


def find_cart(user=None, session_key=None):
    if user is None and not session_key:
        return None
    return db.session.scalar(select(Cart).where(_owned_by(user, session_key)))


def _insert_cart(user, session_key):
    # Two requests of one owner (two tabs) may both find no cart: on the unique
    # owner key, one inserts it, the other's insert does nothing, both read it.
    dialect = postgresql if db.session.get_bind().dialect.name == "postgresql" else sqlite
    db.session.execute(
        dialect.insert(Cart)
        .values(user_id=user.id if user else None, session_key=None if user else session_key)
        .on_conflict_do_nothing()
    )


def get_or_create_cart(user=None, session_key=None):
    cart = find_cart(user, session_key)
    if cart is None:
        _insert_cart(user, session_key)
        cart = find_cart(user, session_key)
    return cart


@cache
def _lock_statement():
    # Built once (SQLAlchemy reuses its compiled form); the outer join locks an empty cart too.
    return (
        select(Cart.id, CartItem.course_id, CartItem.starts_at, CartItem.duration_minutes, CartItem.ends_at)
        .outerjoin(CartItem, CartItem.cart_id == Cart.id)
        .where(Cart.id == bindparam("cart_id"))
        .with_for_update(of=Cart)
    )


def _taken(rows):
    # (course, start, duration, end) of each item of the rows of a cart lock; an empty cart gives one empty row.
    return [row[1:] for row in rows if row[1] is not None]


@cache
def _owned_lock_statement(by_user):
    # Built once per kind of owner; as _lock_statement, with the cart itself read (refreshed if known).
    owner = Cart.user_id if by_user else Cart.session_key
    return (
        select(Cart, CartItem.course_id, CartItem.starts_at, CartItem.duration_minutes, CartItem.ends_at)
        .outerjoin(CartItem, CartItem.cart_id == Cart.id)
        .where(owner == bindparam("owner"))
        .with_for_update(of=Cart)
        .execution_options(populate_existing=True)
    )


def lock_owned_cart(user=None, session_key=None):
    """The owner's cart, created if need be, locked as `lock_cart` locks it: (cart, what its items take).

    One statement when the cart exists (the add to cart's path): it finds, locks and reads the cart.
    """
    if user is None and not session_key:
        raise ValueError("A cart belongs to a user or to a guest's session.")
    statement = _owned_lock_statement(user is not None)
    owner = {"owner": user.id if user is not None else session_key}
    rows = db.session.execute(statement, owner).all()
    if not rows:
        _insert_cart(user, session_key)
        rows = db.session.execute(statement, owner).all()
    cart = rows[0][0]
    db.session.expire(cart, ["items"])
    return cart, _taken(rows)


def lock_cart(cart):
    """Make concurrent writes and checkouts of one cart queue up; returns what its items take, read under the lock.

    They check the items (duplicates, overlaps, already held) before writing: without
    the row lock, two tabs could each add a session overlapping the other's, or start
    two orders. Cart writes sweep first, so every path takes hold rows before cart rows.
    SQLite already runs one writer at a time (the sweep takes its write lock). One
    statement locks the cart and reads (course, start, duration, end) of each item.
    """
    if cart is None:
        return []
    rows = db.session.execute(_lock_statement(), {"cart_id": cart.id}).all()
    # Objects read before the lock may be stale: they are read again when next used.
    db.session.expire(cart, ["items"])
    return _taken(rows)


def resolve_slot(request, now, rules):
    """The tutor who gets this slot now (by priority, or the one asked for); else CartError or UnknownTutor."""
    if request.tutors is None:
        tutors = bookable_tutors(request.course.id, request.tutor_id)
    else:
        tutors = pick_tutors(request.tutors, request.tutor_id)
    day = request.starts_at.astimezone(LOCAL_TZ).date()
    calendars = load_calendars(tutors, day, day, now)
    slot = find_slot(calendars, request.starts_at, request.duration_minutes, rules.window(now))
    if slot is None:
        raise CartError(SLOT_TAKEN)
    return slot


def _take_hold(tutor_id, starts_at, ends_at, now, rules):
    """Insert a hold and lock its cells (see occupancy.hold_cells); returns its id, else CartError."""
    try:
        return hold_cells(tutor_id, starts_at, ends_at, now, now + timedelta(minutes=rules.hold_minutes))
    except SlotTaken as exc:
        raise CartError(SLOT_TAKEN) from exc


def _check_fits(taken, requests):
    """Refuse duplicates and overlaps with the cart's items `taken` (see lock_cart) or among the requests."""
    if not requests:
        raise NoSlotChosen(NOTHING_TO_ADD)
    taken = list(taken)
    for request in requests:
        for course_id, starts_at, duration, ends_at in taken:
            if (course_id, starts_at, duration) == (request.course.id, request.starts_at, request.duration_minutes):
                raise CartError(ALREADY_IN_CART)
            if overlaps(starts_at, ends_at, request.starts_at, request.ends_at):
                raise CartError(OVERLAPS_CART)
        taken.append((request.course.id, request.starts_at, request.duration_minutes, request.ends_at))


@cache
def _items_insert():
    # Built once; the items come back as objects, all in one statement.
    return insert(CartItem).returning(CartItem)


def add_slots(cart, requests, now, rules):
    """Hold and add every requested slot, or raise CartError (UnknownTutor); the caller commits or rolls back.

    A fixed number of statements per slot, whatever the cart holds and however many tutors teach the course.
    """
    sweep_expired_holds(now)
    return _add(cart, lock_cart(cart), requests, now, rules)


def add_to_owned_cart(requests, now, rules, user=None, session_key=None):
    """`add_slots` to the owner's cart, created if need be; one statement fewer (the cart is found as it is locked)."""
    sweep_expired_holds(now)
    cart, taken = lock_owned_cart(user, session_key)
    return _add(cart, taken, requests, now, rules)


def _add(cart, taken, requests, now, rules):
    # The cart is locked and `taken` read under the lock (lock_cart); expired holds are swept.
    _check_fits(taken, requests)
    rows = []
    for request in requests:
        slot = resolve_slot(request, now, rules)
        rows.append(
            {
                "cart_id": cart.id,
                "course_id": request.course.id,
                "tutor_id": slot.tutor_id,
                "starts_at": slot.starts_at,
                "ends_at": slot.ends_at,
                "duration_minutes": slot.duration_minutes,
                "price_cents": session_price(request.course, slot.duration_minutes),
                "hold_id": _take_hold(slot.tutor_id, slot.starts_at, slot.ends_at, now, rules),
                "created_at": now,
            }
        )
    # One statement for all the items; they come back in any order, and start at different times (see _check_fits).
    by_start = {item.starts_at: item for item in db.session.scalars(_items_insert(), rows)}
    return [by_start[row["starts_at"]] for row in rows]


def _owned_item(cart, item_id):
    # Read afresh rather than trust the session: another request may just have changed or removed it.
    item = db.session.get(CartItem, item_id, populate_existing=True) if cart is not None else None
    if item is None or item.cart_id != cart.id:
        raise CartItemNotFound(ITEM_NOT_FOUND)
    return item


def _release_hold(hold_id):
    if hold_id is not None:
        db.session.execute(delete(Hold).where(Hold.id == hold_id))


def remove_item(cart, item_id):
    """Take an item out of the cart and release its hold at once.

    The hold goes before the item, the order in which the sweep locks them, so that
    a removal and a sweep never deadlock; a double click finds nothing the second time.
    """
    item = _owned_item(cart, item_id)
    _release_hold(item.hold_id)
    removed = db.session.execute(
        delete(CartItem).where(CartItem.id == item.id).execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire_all()
    if not removed:
        raise CartItemNotFound(ITEM_NOT_FOUND)


def rehold_item(cart, item_id, now, rules):
    """Hold again an item whose hold expired, with the same tutor if still free."""
    sweep_expired_holds(now)
    lock_cart(cart)
    item = _owned_item(cart, item_id)
    if item.hold_id is not None:
        return item
    request = SlotRequest(item.course, item.starts_at, item.duration_minutes, item.tutor_id)
    slot = resolve_slot(request, now, rules)
    item.hold_id = _take_hold(slot.tutor_id, slot.starts_at, slot.ends_at, now, rules)
    db.session.flush()
    return item


def merge_guest_cart(guest_cart, user):
    """Move a guest's items into the user's cart; duplicates and overlaps are dropped.

    Returns how many items were dropped.
    """
    if guest_cart is None or guest_cart.user_id is not None:
        return 0
    user_cart = get_or_create_cart(user=user)
    dropped = 0
    for item in list(guest_cart.items):
        clash = any(overlaps(kept.starts_at, kept.ends_at, item.starts_at, item.ends_at) for kept in user_cart.items)
        if clash:
            dropped += 1
            _release_hold(item.hold_id)  # before the item, as in remove_item
            guest_cart.items.remove(item)  # an orphan now: deleted at the next flush
        else:
            guest_cart.items.remove(item)
            user_cart.items.append(item)
    if user_cart.coupon_id is None:
        user_cart.coupon_id = guest_cart.coupon_id
    db.session.delete(guest_cart)
    db.session.flush()
    return dropped


def apply_coupon(cart, code, now):
    """Attach a usable coupon to the cart, or raise CouponError with the reason."""
    coupon = coupons.check_usable(coupons.find_coupon(code), now, student_id=cart.user_id, cart_id=cart.id)
    cart.coupon_id = coupon.id
    db.session.flush()
    return coupon


def remove_coupon(cart):
    cart.coupon_id = None
    db.session.flush()


@dataclass(frozen=True)
class CartSummary:
    held: list
    expired: list
    subtotal_cents: int
    discount_cents: int
    total_cents: int
    coupon: object
    coupon_problem: str | None

    @property
    def count(self):
        return len(self.held)


def _reserved_uses(cart, coupon):
    """Uses of `coupon` counted for this cart's pending order, which stay usable by this cart."""
    if coupon.max_redemptions is None:
        return 0
    return db.session.scalar(
        select(func.count())
        .select_from(Order)
        .where(Order.cart_id == cart.id, Order.status == OrderStatus.PENDING.value, Order.coupon_id == coupon.id)
    )


def _items(cart):
    """The cart's items in its order, with their hold, course and tutor: a fixed number of statements."""
    return db.session.scalars(
        select(CartItem)
        .where(CartItem.cart_id == cart.id)
        .order_by(CartItem.starts_at, CartItem.id)
        .options(selectinload(CartItem.hold), selectinload(CartItem.course), selectinload(CartItem.tutor))
    ).all()


def summarize(cart, now, student_id=None):
    """Items still held and items whose hold lapsed, with subtotal, discount and total.

    The coupon's per-student limits are checked for `student_id`, by default the cart's owner.
    """
    items = _items(cart) if cart is not None else []
    held = [i for i in items if i.hold is not None and i.hold.is_active(now)]
    expired = [i for i in items if i not in held]
    subtotal = sum(i.price_cents for i in held)
    coupon = cart.coupon if cart is not None else None
    problem = None
    if coupon is not None:
        try:
            coupons.check_usable(
                coupon,
                now,
                reserved=_reserved_uses(cart, coupon),
                student_id=student_id if student_id is not None else cart.user_id,
                cart_id=cart.id,
            )
        except coupons.CouponError as exc:
            problem, coupon = str(exc), None
    discount = coupons.discount_cents(coupon, subtotal)
    return CartSummary(held, expired, subtotal, discount, subtotal - discount, coupon, problem)
