"""In Chromium: a student and a tutor write about a session with a PDF attached; a student's ticket gets a reply."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from tutoradmin.demo.files import one_page_pdf
from tutoradmin.models import Attachment, SessionMessage, Ticket

from .test_back_office_browser import log_in
from .test_student_browser import _sign_in

pytestmark = [pytest.mark.browser, pytest.mark.app_config(WTF_CSRF_ENABLED=True)]


@pytest.fixture
def pdf(tmp_path):
    """A small real PDF on disk, to pick in the file field; returns (path, bytes)."""
    data = one_page_pdf(["Exercices à revoir", "3. Résoudre 2x² – 3x – 2 = 0."])
    path = tmp_path / "exercices.pdf"
    path.write_bytes(data)
    return path, data


def _switch_to(page, live_server, user, sign_in):
    """Another account in the same browser: forget the current one, then sign in."""
    page.context.clear_cookies()
    sign_in(page, live_server, user)


def test_a_student_and_a_tutor_write_about_a_session_with_a_pdf(page, live_server, make, db, pdf):
    appointment = make.appointment()
    student, tutor = appointment.student, appointment.tutor.user
    db.session.commit()
    path, data = pdf

    _sign_in(page, live_server, student)
    page.goto(f"{live_server}/tableau-de-bord/seances/{appointment.id}")
    page.click("#messages-link")
    expect(page.locator("#no-messages")).to_be_visible()
    page.fill("textarea[name=body]", "Bonjour, voici les exercices qui me bloquent.")
    page.set_input_files("input[name=pieces_jointes]", str(path))
    page.click("#send-message")
    expect(page.locator(".flash")).to_contain_text("Message envoyé à votre tuteur.")
    expect(page.locator("#dernier .message-body")).to_have_text("Bonjour, voici les exercices qui me bloquent.")
    expect(page.locator("#dernier .attachments a")).to_have_text("exercices.pdf")

    _switch_to(page, live_server, tutor, log_in)
    unread = page.locator("#unread-conversations li")
    expect(unread).to_contain_text("1 non lu")
    unread.get_by_role("link").click()
    expect(page.locator("#dernier .message-body")).to_have_text("Bonjour, voici les exercices qui me bloquent.")
    attachment = db.session.scalars(select(Attachment)).one()
    link = page.locator("#dernier .attachments a")
    expect(link).to_have_attribute("href", f"/pieces-jointes/{attachment.id}")
    expect(link).to_have_text("exercices.pdf")
    with page.expect_download() as download_info:
        link.click()
    download = download_info.value
    assert download.suggested_filename == "exercices.pdf"
    with open(download.path(), "rb") as downloaded:
        assert downloaded.read() == data
    page.fill("textarea[name=body]", "Merci Léa, on commence par le numéro 3.")
    page.get_by_role("button", name="Envoyer").click()
    expect(page.locator("#dernier .message-body")).to_have_text("Merci Léa, on commence par le numéro 3.")

    _switch_to(page, live_server, student, _sign_in)
    badge = page.locator(f"li[data-appointment='{appointment.id}'] .badge.unread")
    expect(badge).to_have_text("1 nouveau message")
    badge.click()
    expect(page.locator("#dernier .message-body")).to_have_text("Merci Léa, on commence par le numéro 3.")
    page.goto(f"{live_server}/tableau-de-bord")
    expect(page.locator(f"li[data-appointment='{appointment.id}'] .badge.unread")).to_have_count(0)
    db.session.expire_all()
    bodies = db.session.scalars(select(SessionMessage.body).order_by(SessionMessage.id)).all()
    assert bodies == ["Bonjour, voici les exercices qui me bloquent.", "Merci Léa, on commence par le numéro 3."]


def test_a_student_opens_a_ticket_with_a_file_and_reads_the_staff_reply(page, live_server, make, db, pdf):
    student, staff = make.user(), make.user(role="staff")
    db.session.commit()
    path, _ = pdf

    _sign_in(page, live_server, student)
    page.goto(f"{live_server}/tableau-de-bord/billets")
    page.click("#new-ticket")
    page.select_option("select[name=category]", "paiement")
    page.fill("input[name=subject]", "Reçu pour mes impôts")
    page.fill("textarea[name=body]", "Bonjour, où trouver mon reçu ?")
    page.set_input_files("input[name=pieces_jointes]", str(path))
    page.click("#new-ticket-form button[type=submit]")
    expect(page.locator("body")).to_contain_text("Bonjour, où trouver mon reçu ?")
    ticket = db.session.scalars(select(Ticket)).one()

    _switch_to(page, live_server, staff, log_in)
    page.goto(f"{live_server}/admin/billets/")
    page.locator(f"a[href*='/admin/billets/repondre/{ticket.id}']").first.click()
    expect(page.locator("#conversation")).to_contain_text("Bonjour, où trouver mon reçu ?")
    expect(page.locator("#conversation .attachments a")).to_have_text("exercices.pdf")
    page.fill("textarea[name=body]", "Bonjour, il est dans « Mes commandes et reçus ».")
    page.locator("#reply-form").get_by_role("button", name="Envoyer").click()
    expect(page.locator(".alert-success")).to_contain_text("Réponse envoyée à l'étudiant.")

    _switch_to(page, live_server, student, _sign_in)
    page.goto(f"{live_server}/tableau-de-bord/billets")
    row = page.locator(f"tr[data-ticket='{ticket.id}']")
    expect(row.locator(".unread-marker")).to_have_text("Nouvelle réponse")
    row.get_by_role("link").click()
    expect(page.locator("body")).to_contain_text("il est dans « Mes commandes et reçus ».")
