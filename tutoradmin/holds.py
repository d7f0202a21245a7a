"""Holds past their expiry: swept by every cart write and by `flask expire-holds`."""

from functools import cache

from sqlalchemy import bindparam, delete, inspect, select

from .extensions import db
from .models import CartItem, Hold, SlotLock
from .models.types import UTCDateTime


@cache
def _sweep_statement():
    # Built once (SQLAlchemy reuses its compiled form); RETURNING says which holds went, if any.
    expired = (
        select(Hold.id)
        .where(~Hold.active_at(bindparam("now", type_=UTCDateTime)))
        .order_by(Hold.id)
        .with_for_update(skip_locked=True)
    )
    return (
        delete(Hold)
        .where(Hold.id.in_(expired.scalar_subquery()))
        .returning(Hold.id)
        .execution_options(synchronize_session=False)
    )


def sweep_expired_holds(now):
    """Delete holds past their expiry; their cells go with them and cart items keep no hold.

    Called first in every cart write, which also takes SQLite's write lock early. A hold
    locked by a payment being booked at this moment is skipped (PostgreSQL's SKIP LOCKED):
    its cells are passing to an appointment, and the payment deletes it itself. Holds are
    locked in id order, as the payment locks its own, so two sweeps never deadlock.
    Returns how many holds went.
    """
    swept = set(db.session.scalars(_sweep_statement(), {"now": now}))
    if swept:
        _forget_holds(swept)
    return len(swept)


def _forget_holds(hold_ids):
    """Expire the objects read before that the database changed: the holds, their cells, the items that had them.

    Only those: the cart, the course and the rest of the session stay loaded, so a sweep costs no reads.
    """
    for obj in list(db.session.identity_map.values()):
        known = inspect(obj).dict
        if isinstance(obj, Hold):
            changed = known.get("id") in hold_ids
        elif isinstance(obj, CartItem | SlotLock):
            changed = known.get("hold_id") in hold_ids
        else:
            changed = False
        if changed:
            db.session.expire(obj)
