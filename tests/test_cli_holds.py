"""`flask expire-holds` frees the time of lapsed holds and nothing else."""

from datetime import timedelta

import pytest

from tutoradmin.models import Hold, SlotLock, utcnow
from tutoradmin.occupancy import occupy


def _hold(db, tutor, start, expires_at):
    hold = Hold(
        tutor_id=tutor.id,
        starts_at=start,
        ends_at=start + timedelta(hours=1),
        created_at=expires_at - timedelta(minutes=15),
        expires_at=expires_at,
    )
    db.session.add(hold)
    db.session.flush()
    occupy(tutor.id, hold.starts_at, hold.ends_at, hold_id=hold.id)
    return hold


@pytest.mark.bare_rows
def test_expire_holds_releases_only_lapsed_holds_and_their_cells(app, db, make):
    tutor = make.tutor()
    start = utcnow().replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    lapsed = _hold(db, tutor, start, utcnow() - timedelta(seconds=1))
    live = _hold(db, tutor, start + timedelta(hours=2), utcnow() + timedelta(minutes=10))
    db.session.commit()
    lapsed_id, live_id = lapsed.id, live.id

    result = app.test_cli_runner().invoke(args=["expire-holds"])

    assert result.exit_code == 0, result.output
    assert "libérées : 1" in result.output
    db.session.expire_all()
    assert [h.id for h in db.session.query(Hold).all()] == [live_id]
    assert {lock.hold_id for lock in db.session.query(SlotLock).all()} == {live_id}
    assert db.session.get(Hold, lapsed_id) is None
