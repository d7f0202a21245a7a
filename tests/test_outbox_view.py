"""The office sees outbound deliveries and resends them; the overview and the orders show what needs a look."""

import json
import re
from datetime import timedelta
from html import unescape

import pytest
from sqlalchemy import func, select

from tutoradmin import flags, outbox
from tutoradmin.errors import DomainError
from tutoradmin.extensions import db as _db
from tutoradmin.models import AuditLog, Dispute, Order, OutboxEvent

from .query_counts import page_statements
from .races import logged_in, race

LIST = "/admin/envois-sortants/"
RESEND = "/admin/envois-sortants/renvoyer"
BULK = "/admin/envois-sortants/action/"


def _event(db, now, status="failed", event_type="signup", **fields):
    """An outbox event as the delivery worker leaves it: a failed one by default, after a day of retries."""
    fields.setdefault("payload", {"courriel": "lea@example.com"})
    fields.setdefault("created_at", now - timedelta(days=1))
    fields.setdefault("next_attempt_at", now - timedelta(hours=1))
    if status == "failed":
        fields.setdefault("attempts", 14)
        fields.setdefault("last_error", "HTTP 500 : erreur du serveur Make.com")
        fields.setdefault("last_attempt_at", now - timedelta(hours=1))
    if status == "delivered":
        fields.setdefault("attempts", 1)
        fields.setdefault("delivered_at", now - timedelta(hours=20))
        fields.setdefault("last_attempt_at", now - timedelta(hours=20))
    row = OutboxEvent(event_type=event_type, status=status, **fields)
    db.session.add(row)
    db.session.flush()
    return row


def _audit_lines(db, action):
    return db.session.scalars(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def _text(response):
    return unescape(re.sub(r"\s+", " ", response.get_data(as_text=True)))


def _words(response):
    """A page's text without its tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def _filter_arg(response, label):
    """The URL argument (flt0_<n>) of a list page's filter called `label`."""
    data = re.search(r'id="filter-groups-data"[^>]*>(.*?)</div>', response.get_data(as_text=True)).group(1)
    groups = json.loads(unescape(data))
    return f"flt0_{groups[label][0]['arg']}"


def _listed_ids(response):
    assert response.status_code == 200
    return {int(i) for i in re.findall(r"details/\?id=(\d+)", response.get_data(as_text=True))}


def _queries(client, url):
    return len(page_statements(client, _db, url)[0])


# --- the list and the details ----------------------------------------------------------------


def test_the_list_shows_deliveries_newest_first_with_french_labels(client, db, login_as, now):
    login_as("staff")
    older = _event(db, now, status="delivered", event_type="booking.created", created_at=now - timedelta(days=2))
    newer = _event(db, now, status="failed", event_type="signup", last_error="x" * 300)
    db.session.commit()

    response = client.get(LIST)
    page = _text(response)

    assert response.status_code == 200
    assert "Inscription" in page and "signup" in page and "Échec" in page
    assert "Réservation confirmée" in page and "booking.created" in page and "Livré" in page
    assert 'class="badge badge-danger"' in response.get_data(as_text=True)
    # The long error is cut in the list, whole in its tooltip and on the details page.
    assert "x" * 80 + "…" in page and "x" * 81 + "…" not in page
    html = response.get_data(as_text=True)
    assert html.index(f"details/?id={newer.id}") < html.index(f"details/?id={older.id}")


def test_the_list_filters_on_status_and_searches_the_dedupe_key(client, db, login_as, now):
    login_as("staff")
    failed = _event(db, now, dedupe_key="signup:user:41")
    delivered = _event(db, now, status="delivered", dedupe_key="booking.created:order:7")
    stopped = _event(db, now, status="stopped", last_error="HTTP 410")
    db.session.commit()

    by_status = _filter_arg(client.get(LIST), "Statut")

    assert _listed_ids(client.get(f"{LIST}?{by_status}=failed")) == {failed.id}
    assert _listed_ids(client.get(f"{LIST}?{by_status}=stopped")) == {stopped.id}
    assert _listed_ids(client.get(f"{LIST}?search=order:7")) == {delivered.id}


def test_the_details_page_shows_the_payload_pretty_printed_and_escaped(client, db, login_as, now):
    login_as("admin")
    row = _event(db, now, payload={"prénom": "Léa", "note": "<script>alert(1)</script>"})
    db.session.commit()

    html = client.get(f"{LIST}details/?id={row.id}").get_data(as_text=True)

    assert '"prénom": "Léa"' in unescape(html)
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert f'action="{RESEND}"' in html


def test_deliveries_are_never_created_edited_deleted_or_exported(client, db, login_as, now):
    login_as("admin")
    row = _event(db, now)
    db.session.commit()

    attempts = [
        client.get(f"{LIST}new/"),
        client.post(f"{LIST}new/", data={"event_type": "signup"}),
        client.get(f"{LIST}edit/?id={row.id}"),
        client.post(f"{LIST}edit/?id={row.id}", data={"status": "delivered"}),
        client.post(f"{LIST}delete/", data={"id": row.id}),
        client.post(BULK, data={"action": "delete", "rowid": row.id}),
    ]

    assert [r.status_code for r in attempts[:5]] == [403] * 5
    assert client.get(f"{LIST}export/csv/").status_code != 200
    db.session.expire_all()
    assert db.session.get(OutboxEvent, row.id).status == "failed"


def test_the_list_costs_the_same_queries_for_one_row_or_thirty(client, db, login_as, now):
    login_as("staff")
    _event(db, now)
    db.session.commit()
    one = _queries(client, LIST)
    for n in range(29):
        _event(db, now, status=("failed", "delivered", "pending", "stopped")[n % 4])
    db.session.commit()
    assert _queries(client, LIST) == one


# --- resending ----------------------------------------------------------------------------------


def test_resending_a_failed_event_queues_it_again_due_now_and_is_audited(db, make, now):
    staff = make.user(role="staff")
    row = _event(db, now, claim_token="t" * 32, claimed_until=now - timedelta(minutes=5))
    db.session.commit()

    assert outbox.resend(row, staff, now) is True
    db.session.commit()

    db.session.expire_all()
    row = db.session.get(OutboxEvent, row.id)
    assert (row.status, row.attempts, row.next_attempt_at) == ("pending", 0, now)
    assert (row.claim_token, row.claimed_until) == (None, None)
    assert row.last_error == "HTTP 500 : erreur du serveur Make.com"
    [line] = _audit_lines(db, "outbox.resent")
    assert (line.actor_id, line.target_type, line.target_id) == (staff.id, "outbox_events", row.id)
    assert (line.before["status"], line.before["attempts"]) == ("failed", 14)


@pytest.mark.parametrize("status", ["delivered", "stopped"])
def test_a_delivered_or_refused_event_can_be_sent_again(db, make, now, status):
    row = _event(db, now, status=status)
    db.session.commit()
    assert outbox.resend(row, make.user(role="admin"), now) is True
    assert (row.status, row.attempts, row.delivered_at) == ("pending", 0, None)


def test_a_resend_that_waited_for_another_one_finds_it_done(db, make, now):
    """Two clicks: the second read the clock first, then waited for the row while the first resent it."""
    row = _event(db, now)
    db.session.commit()
    staff = make.user(role="staff")
    assert outbox.resend(row, staff, now) is True
    db.session.commit()

    assert outbox.resend(row, staff, now - timedelta(seconds=1)) is False
    db.session.commit()
    assert len(_audit_lines(db, "outbox.resent")) == 1


def test_an_event_a_worker_is_sending_cannot_be_resent(db, make, now):
    row = _event(db, now, status="pending", attempts=3, claim_token="w" * 32, claimed_until=now + timedelta(seconds=50))
    db.session.commit()

    with pytest.raises(DomainError) as refused:
        outbox.resend(row, make.user(role="staff"), now)

    assert refused.value.message == "Envoi en cours : réessayez dans une minute."
    db.session.rollback()
    row = db.session.get(OutboxEvent, row.id)
    assert (row.attempts, row.claim_token) == (3, "w" * 32)
    assert _audit_lines(db, "outbox.resent") == []


def test_staff_resend_from_the_list_and_a_double_post_resends_once(client, db, login_as, now):
    login_as("staff")
    row = _event(db, now)
    db.session.commit()

    first = client.post(RESEND, data={"id": row.id, "url": LIST})
    second = client.post(RESEND, data={"id": row.id, "url": LIST}, follow_redirects=True)

    assert first.status_code == 302 and first.headers["Location"].endswith(LIST)
    assert "attendait déjà son envoi" in _text(second)
    db.session.expire_all()
    assert db.session.get(OutboxEvent, row.id).status == "pending"
    assert len(_audit_lines(db, "outbox.resent")) == 1


@pytest.mark.usefixtures("pg_engine")
def test_a_resend_clicked_four_times_at_once_resends_once(app, db, make, quiet, now):
    staff = make.user(role="staff")
    row_id = _event(db, now).id
    db.session.commit()
    clients = [logged_in(app, staff) for _ in range(4)]
    quiet()

    results = race([lambda c=c: c.post(RESEND, data={"id": row_id}) for c in clients])

    assert {r.status_code for r in results} == {302}, results
    assert len(_audit_lines(db, "outbox.resent")) == 1
    assert db.session.get(OutboxEvent, row_id).status == "pending"


def test_the_resend_button_says_when_a_worker_holds_the_event(client, db, login_as, now):
    login_as("staff")
    row = _event(db, now, status="pending", attempts=2, claim_token="w" * 32, claimed_until=now + timedelta(minutes=1))
    db.session.commit()

    page = _text(client.post(RESEND, data={"id": row.id}, follow_redirects=True))

    assert "Envoi en cours : réessayez dans une minute." in page
    db.session.expire_all()
    assert db.session.get(OutboxEvent, row.id).attempts == 2


def test_the_bulk_action_resends_the_selected_events_only(client, db, login_as, now):
    login_as("admin")
    first, second, untouched = _event(db, now), _event(db, now, status="stopped"), _event(db, now)
    db.session.commit()

    response = client.post(BULK, data={"action": "resend", "rowid": [first.id, second.id, "abc"]})

    assert response.status_code == 302
    db.session.expire_all()
    statuses = {e.id: e.status for e in db.session.scalars(select(OutboxEvent))}
    assert statuses == {first.id: "pending", second.id: "pending", untouched.id: "failed"}
    assert len(_audit_lines(db, "outbox.resent")) == 2


def test_resending_an_unknown_event_is_not_found(client, login_as):
    login_as("staff")
    assert client.post(RESEND, data={"id": "999999"}).status_code == 404
    assert client.post(RESEND, data={"id": "abc"}).status_code == 404


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_resend_without_the_csrf_token_changes_nothing(client, db, make, login, now):
    staff = make.user(role="staff")
    row = _event(db, now)
    db.session.commit()
    page = client.get("/connexion").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    client.post("/connexion", data={"email": staff.email, "password": "motdepasse-test", "csrf_token": token})

    assert client.post(RESEND, data={"id": row.id}).status_code == 400
    db.session.expire_all()
    assert db.session.get(OutboxEvent, row.id).status == "failed"
    # The list's own button carries the token, and goes through.
    html = client.get(LIST).get_data(as_text=True)
    form_token = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
    assert client.post(RESEND, data={"id": row.id, "csrf_token": form_token}).status_code == 302
    db.session.expire_all()
    assert db.session.get(OutboxEvent, row.id).status == "pending"


# --- the overview ---------------------------------------------------------------------------------


def _flagged_order(db, make, now, reason="Litige ouvert par le titulaire de la carte"):
    order = make.order()
    order.flagged_at, order.flag_reason = now - timedelta(hours=2), reason
    db.session.flush()
    return order


def _dispute(db, order, status="needs_response", n=1):
    dispute = Dispute(
        order_id=order.id,
        gateway_dispute_id=f"dp_{n}",
        amount_cents=order.total_cents,
        reason="fraudulent",
        status=status,
    )
    db.session.add(dispute)
    db.session.flush()
    return dispute


def test_the_overview_warns_of_failed_deliveries_and_links_to_them(client, db, login_as, now):
    login_as("staff")
    failed = [_event(db, now), _event(db, now)]
    _event(db, now, status="delivered")
    db.session.commit()

    html = client.get("/admin/").get_data(as_text=True)

    assert "2 envois sortants en échec" in html
    link = unescape(re.search(r'href="([^"]+)">Voir la liste</a>', html).group(1))
    assert link.startswith(LIST)
    assert _listed_ids(client.get(link)) == {e.id for e in failed}


def test_the_overview_says_nothing_of_deliveries_when_all_went_out(client, db, login_as, now):
    login_as("admin")
    _event(db, now, status="delivered")
    db.session.commit()
    assert "en échec" not in client.get("/admin/").get_data(as_text=True)


def test_the_overview_counts_flagged_orders_and_lists_open_disputes(client, db, make, login_as, now):
    login_as("staff")
    flagged = _flagged_order(db, make, now)
    _flagged_order(db, make, now)
    quiet = make.order()
    _dispute(db, flagged, "needs_response", 1)
    _dispute(db, quiet, "won", 2)
    db.session.commit()

    html = client.get("/admin/").get_data(as_text=True)

    assert "2 commandes signalées à traiter" in html
    link = unescape(re.search(r'href="(/admin/commandes/\?[^"]+)">Voir la liste</a>', html).group(1))
    assert quiet.id not in _listed_ids(client.get(link)) and flagged.id in _listed_ids(client.get(link))
    disputes = html.split("Litiges en cours", 1)[1].split("Commandes récentes", 1)[0]
    assert f'<a href="/admin/commandes/details/?id={flagged.id}">#{flagged.id}</a>' in disputes
    assert "Réponse attendue" in disputes and "Fraude" in disputes
    assert f"?id={quiet.id}" not in disputes


def test_the_accountant_sees_flagged_orders_in_their_own_list_but_no_deliveries(client, db, make, login_as, now):
    login_as("accountant")
    _flagged_order(db, make, now)
    _event(db, now)
    db.session.commit()

    html = client.get("/admin/").get_data(as_text=True)

    assert "1 commande signalée à traiter" in html and "/admin/compta/commandes/?flt0_" in html
    assert "en échec" not in html and LIST not in html


def test_the_overview_costs_the_same_queries_whatever_needs_attention(client, db, make, login_as, now):
    login_as("staff")

    def add(n):
        order = _flagged_order(db, make, now)
        _dispute(db, order, n=n)
        _event(db, now)
        _event(db, now, status="stopped")
        db.session.commit()

    add(0)
    one = _queries(client, "/admin/")
    for n in range(1, 8):
        add(n)
    assert _queries(client, "/admin/") == one


# --- flagged orders -------------------------------------------------------------------------------


def test_the_order_page_shows_its_flag_and_disputes(client, db, make, login_as, now):
    login_as("staff")
    order = _flagged_order(db, make, now, reason="Remboursement fait dans Stripe")
    _dispute(db, order, "under_review")
    db.session.commit()

    page = _text(client.get(f"/admin/commandes/details/?id={order.id}"))

    assert "Remboursement fait dans Stripe" in page and "Signalée le" in page
    assert "En examen" in page and "Fraude" in page and "dp_1" in page
    assert f"/admin/commandes/traiter/{order.id}" in page


def test_the_signalee_filter_keeps_flagged_orders(client, db, make, login_as, now):
    login_as("accountant")
    flagged, quiet = _flagged_order(db, make, now), make.order()
    db.session.commit()
    arg = _filter_arg(client.get("/admin/compta/commandes/"), "Signalée")

    assert _listed_ids(client.get(f"/admin/compta/commandes/?{arg}=1")) == {flagged.id}
    assert _listed_ids(client.get(f"/admin/compta/commandes/?{arg}=0")) == {quiet.id}


def test_clearing_a_flag_is_audited_with_its_reason_and_happens_once(client, db, make, login_as, now):
    staff = login_as("staff")
    order = _flagged_order(db, make, now, reason="Remboursement échoué")
    db.session.commit()
    url = f"/admin/commandes/traiter/{order.id}"

    assert "Remboursement échoué" in _text(client.get(url))
    first = client.post(url, data={"note": "Remboursé à nouveau par virement"})
    second = client.post(url, follow_redirects=True)

    assert first.status_code == 302
    assert "n'est plus signalée" in _text(second)
    db.session.expire_all()
    order = db.session.get(Order, order.id)
    assert (order.flagged_at, order.flag_reason) == (None, None)
    [line] = _audit_lines(db, "order.flag_cleared")
    assert (line.actor_id, line.target_type, line.target_id) == (staff.id, "orders", order.id)
    assert line.before["flag_reason"] == "Remboursement échoué"
    assert line.after["note"] == "Remboursé à nouveau par virement"


@pytest.mark.usefixtures("pg_engine")
def test_a_flag_cleared_by_four_clicks_at_once_is_audited_once(app, db, make, quiet, now):
    staff = make.user(role="staff")
    order_id = _flagged_order(db, make, now).id
    db.session.commit()
    clients = [logged_in(app, staff) for _ in range(4)]
    quiet()

    results = race([lambda c=c: c.post(f"/admin/commandes/traiter/{order_id}") for c in clients])

    # The others find it cleared: the form again (400) or, once committed, the order's page (302).
    assert {r.status_code for r in results} <= {302, 400}, results
    assert len(_audit_lines(db, "order.flag_cleared")) == 1
    assert db.session.get(Order, order_id).flagged_at is None


def test_the_accountant_reads_a_flag_but_cannot_clear_it(client, db, make, login_as, now):
    login_as("accountant")
    order = _flagged_order(db, make, now, reason="Litige")
    db.session.commit()

    details = _text(client.get(f"/admin/compta/commandes/details/?id={order.id}"))
    refused = [client.get(f"/admin/commandes/traiter/{order.id}"), client.post(f"/admin/commandes/traiter/{order.id}")]

    assert "Signalée le" in details and "Litige" in details and "traiter" not in details
    assert [r.status_code for r in refused] == [403, 403]
    db.session.expire_all()
    assert db.session.get(Order, order.id).flag_reason == "Litige"
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 0


def test_clearing_an_order_that_is_not_flagged_is_refused(db, make, now):
    order = make.order()
    with pytest.raises(DomainError):
        flags.clear_order_flag(order, make.user(role="staff"), now)


# --- settings ---------------------------------------------------------------------------------------


def test_the_settings_page_shows_webhook_hosts_but_no_secret(app, client, login_as):
    login_as("admin")
    app.config["OUTBOX_WEBHOOK_URLS"] = {
        "*": "https://hook.us1.make.com/chemin-secret-general",
        "BOOKING": "https://hook.eu1.make.com/chemin-secret-seances",
    }
    app.config["OUTBOX_SIGNING_SECRET"] = "signature-tres-secrete"
    app.config["PUBLIC_BASE_URL"] = "https://reservation.4as.ca"
    app.config["LOG_LEVEL"] = "WARNING"
    app.config["SENTRY_DSN"] = "https://cle-publique@o1.ingest.sentry.io/42"

    page = _words(client.get("/admin/parametres/"))

    assert "https://reservation.4as.ca" in page and "hook.eu1.make.com" in page
    assert "par défaut (hook.us1.make.com)" in page
    assert "Secret de signature des envois configuré" in page
    assert "WARNING" in page and "Suivi des erreurs (Sentry) activé" in page
    for secret in ("chemin-secret", "signature-tres-secrete", "cle-publique", "ingest.sentry.io"):
        assert secret not in page


def test_the_settings_page_says_when_no_signing_secret_of_its_own_is_set(app, client, login_as):
    login_as("admin")
    app.config["OUTBOX_SIGNING_SECRET"] = app.config["SECRET_KEY"]
    app.config["SENTRY_DSN"] = None
    page = _words(client.get("/admin/parametres/"))
    assert "Secret de signature des envois absent" in page and "Suivi des erreurs (Sentry) désactivé" in page
