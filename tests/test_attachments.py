"""Attached files: accepted by content, within size and count; downloaded by the conversation's people only."""

import html
import re
from urllib.parse import quote

import pytest
from flask import url_for
from sqlalchemy import func, select

from tutoradmin import attachments
from tutoradmin.attachments import AttachmentError, attach, read_uploads
from tutoradmin.forms import BaseForm
from tutoradmin.models import ATTACHMENT_MAX_BYTES, Attachment, AttachmentBlob, Role
from tutoradmin.public.forms import attachment_field
from tutoradmin.request_limits import REQUEST_MAX_BYTES, UPLOAD_REQUEST_MAX_BYTES
from tutoradmin.views.settings import _attachment_rows

from . import attachment_samples as samples
from .attachment_samples import ACCEPTED, upload


def _text(response):
    return html.unescape(response.get_data(as_text=True))


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


# Types, judged by content ----------------------------------------------------------------------


@pytest.mark.parametrize("name, make_bytes, content_type", ACCEPTED, ids=[row[0] for row in ACCEPTED])
def test_each_allowed_type_is_recognised_by_its_content(name, make_bytes, content_type):
    [accepted] = read_uploads([upload(name, make_bytes())])

    assert (accepted.filename, accepted.content_type, accepted.data) == (name, content_type, make_bytes())


REFUSED = [
    ("devoir.pdf", b"<!DOCTYPE html><html><script>alert(1)</script></html>", "n'est pas un PDF valide"),
    ("programme.exe", samples.exe(), "n'est pas d'un type accepté"),
    ("facture.pdf", samples.exe(), "n'est pas un PDF valide"),
    ("dessin.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "type accepté"),
    ("dessin.txt", b'<svg xmlns="http://www.w3.org/2000/svg"/>', "n'est pas un fichier texte valide"),
    ("page.txt", b"Bonjour\n<script>alert(1)</script>", "n'est pas un fichier texte valide"),
    ("script.txt", b"#!/bin/sh\nrm -rf /\n", "n'est pas un fichier texte valide"),
    ("binaire.txt", b"abc\x00def", "n'est pas un fichier texte valide"),
    ("latin1.txt", "Élève".encode("latin-1"), "n'est pas un fichier texte valide"),
    ("archive.docx", samples.office("a.txt", "b.txt"), "n'est pas un document Word (.docx) valide"),
    ("archive.zip", samples.office("a.txt"), "n'est pas d'un type accepté"),
    ("macros.docx", samples.office("[Content_Types].xml", "word/document.xml", "word/vbaProject.bin"), "Word"),
    ("classeur.xlsx", samples.docx(), "n'est pas un classeur Excel (.xlsx) valide"),
    ("image.jpg", samples.png(), "n'est pas une image JPEG valide"),
    ("photo.heic", samples.ftyp("avif", "mif1", "avif"), "n'est pas une photo HEIC valide"),
    ("video.heic", samples.ftyp("isom", "isom", "mp41"), "n'est pas une photo HEIC valide"),
    ("notes", samples.text(), "n'est pas d'un type accepté"),
    ("vide.pdf", b"", "est vide"),
]


@pytest.mark.parametrize("name, data, message", REFUSED, ids=[row[0] for row in REFUSED])
def test_a_file_whose_content_is_not_what_an_allowed_name_says_is_refused(name, data, message):
    with pytest.raises(AttachmentError, match=re.escape(message)) as refusal:
        read_uploads([upload(name, data)])
    assert f"« {name} »" in refusal.value.message


def test_size_is_checked_at_the_byte():
    padding = b"%PDF-1.4\n" + b"0" * (ATTACHMENT_MAX_BYTES - 9)
    assert len(read_uploads([upload("gros.pdf", padding)])[0].data) == ATTACHMENT_MAX_BYTES

    with pytest.raises(AttachmentError, match=re.escape("« trop-gros.pdf » dépasse 10 Mo")):
        read_uploads([upload("trop-gros.pdf", padding + b"0")])


def test_five_files_at_most_and_the_empty_part_of_an_unused_picker_is_ignored():
    five = [upload(f"page-{n}.png", samples.png()) for n in range(5)]
    assert len(read_uploads([*five, upload("", b"")])) == 5
    assert read_uploads([upload("", b"")]) == []

    with pytest.raises(AttachmentError, match="au plus 5 fichiers"):
        read_uploads([*five, upload("page-6.png", samples.png())])


@pytest.mark.parametrize(
    "sent, kept",
    [
        ("C:\\Users\\eleve\\Documents\\devoir.pdf", "devoir.pdf"),
        ("../../etc/devoir.pdf", "devoir.pdf"),
        ("de\x07voir\n.pdf", "devoir.pdf"),
        # A right-to-left override would show "facture‮fdp.exe" as "facture exe.pdf".
        ("facture\u202egpj.pdf", "facturegpj.pdf"),
        ("e\u0301nonce\u0301.pdf", "énoncé.pdf"),
        ("a" * 300 + ".pdf", "a" * 251 + ".pdf"),
    ],
)
def test_the_name_is_kept_without_folders_or_control_characters_and_fits(sent, kept):
    assert read_uploads([upload(sent, samples.pdf())])[0].filename == kept


def test_a_name_with_nothing_left_after_cleaning_is_refused():
    with pytest.raises(AttachmentError, match="n'a pas de nom"):
        read_uploads([upload("../\x01", samples.pdf())])


# Refusals write nothing ------------------------------------------------------------------------


def test_a_refused_file_among_good_ones_writes_nothing(db, make, now):
    message = samples.ticket_message(db, make.user())
    files = [upload("ok.pdf", samples.pdf()), upload("faux.pdf", b"<html></html>")]

    with pytest.raises(AttachmentError):
        attach(read_uploads(files), message=message, uploader=message.ticket.student, now=now)
    db.session.commit()

    assert (_count(db, Attachment), _count(db, AttachmentBlob)) == (0, 0)


def test_a_message_holds_five_files_in_all(db, make, now):
    message = samples.ticket_message(db, make.user())
    attach(
        read_uploads([upload(f"{n}.pdf", samples.pdf()) for n in range(4)]),
        message=message,
        uploader=make.user(),
        now=now,
    )
    db.session.flush()

    with pytest.raises(AttachmentError, match="au plus 5 fichiers"):
        attach(
            read_uploads([upload(f"{n}.pdf", samples.pdf()) for n in range(2)]),
            message=message,
            uploader=make.user(),
            now=now,
        )


# Downloads: who may, and how the file is served ------------------------------------------------


@pytest.fixture
def files(db, make, now):
    """One file in each kind of place: a ticket reply, an internal note, a session message, a hidden one."""
    student, staff = make.user(), make.user(role=Role.STAFF)
    appointment = make.appointment(student=student)
    places = {
        "ticket": samples.ticket_message(db, student, author=staff),
        "note": samples.ticket_message(db, student, author=staff, internal=True),
        "session": samples.session_message(db, appointment, student),
        "hidden": samples.session_message(db, appointment, appointment.tutor.user, hidden_by=staff),
    }
    ids = {}
    for place, message in places.items():
        [attachment] = attach(
            [read_uploads([upload(f"{place}.pdf", samples.pdf())])[0]], message=message, uploader=student, now=now
        )
        db.session.flush()
        ids[place] = attachment.id
    db.session.commit()
    people = {
        "student": student,
        "tutor": appointment.tutor.user,
        "staff": staff,
        "admin": make.user(role=Role.ADMIN),
        "accountant": make.user(role=Role.ACCOUNTANT),
        "other student": make.user(),
        "other tutor": make.tutor().user,
    }
    db.session.commit()
    return ids, people


OK, NO = 200, 404
#: Who downloads what: ticket reply, internal note, session message, hidden session message.
ACCESS = {
    "student": (OK, NO, OK, NO),
    "tutor": (NO, NO, OK, NO),
    "staff": (OK, OK, OK, OK),
    "admin": (OK, OK, OK, OK),
    "accountant": (NO, NO, NO, NO),
    "other student": (NO, NO, NO, NO),
    "other tutor": (NO, NO, NO, NO),
}


@pytest.mark.parametrize("who", ACCESS)
def test_downloads_by_role(client, login, files, who):
    ids, people = files
    login(people[who])

    statuses = tuple(client.get(f"/pieces-jointes/{ids[place]}").status_code for place in ids)

    assert statuses == ACCESS[who]


def test_a_guessed_id_is_not_found_and_a_visitor_is_sent_to_sign_in(client, login_as, files):
    ids, _people = files
    response = client.get(f"/pieces-jointes/{ids['ticket']}")
    assert response.status_code == 302 and "/connexion" in response.location

    login_as("staff")
    assert client.get(f"/pieces-jointes/{max(ids.values()) + 1}").status_code == 404


def test_a_download_is_always_a_download_of_the_stored_type(client, db, make, login, now):
    student = make.user()
    message = samples.ticket_message(db, student)
    [attachment] = attach(
        read_uploads([upload("énoncé.pdf", samples.pdf())]), message=message, uploader=student, now=now
    )
    db.session.add(attachment)
    db.session.commit()
    login(student)

    response = client.get(f"/pieces-jointes/{attachment.id}")

    assert response.status_code == 200
    assert response.data == samples.pdf()
    assert response.headers["Content-Type"] == "application/pdf"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert f"filename*=UTF-8''{quote('énoncé.pdf')}" in disposition
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "sandbox" in response.headers["Content-Security-Policy"]


def test_the_list_macro_links_each_file_with_its_type_and_size(app, db, make, now):
    message = samples.ticket_message(db, make.user())
    attach(
        read_uploads([upload("énoncé.pdf", samples.pdf()), upload("notes.txt", b"x" * 2048)]),
        message=message,
        uploader=make.user(),
        now=now,
    )
    db.session.commit()
    template = app.jinja_env.from_string(
        "{% from 'partials/attachments.html' import attachment_list %}{{ attachment_list(files) }}"
    )

    with app.test_request_context():
        page = html.unescape(template.render(files=message.attachments))
        first = url_for("public.download_attachment", attachment_id=message.attachments[0].id)

    assert f'href="{first}"' in page
    assert "énoncé.pdf" in page and "(PDF, " in page
    assert "notes.txt" in page and "(Texte, 2\u00a0ko)" in page


def test_the_input_macro_takes_several_files_of_the_allowed_types(app):
    class MessageForm(BaseForm):
        pieces_jointes = attachment_field()

    template = app.jinja_env.from_string(
        "{% from 'partials/attachments.html' import attachment_input %}{{ attachment_input(form.pieces_jointes) }}"
    )
    with app.test_request_context():
        page = html.unescape(template.render(form=MessageForm()))

    assert 'type="file"' in page and 'name="pieces_jointes"' in page and "multiple" in page
    assert f'accept="{attachments.ACCEPT}"' in page and ".heic" in attachments.ACCEPT
    assert "Jusqu'à 5 fichiers de 10 Mo : PDF, images, Word, Excel ou texte." in page


@pytest.mark.parametrize(
    "size, label",
    [(1, "1\u00a0octet"), (840, "840\u00a0octets"), (12 * 1024, "12\u00a0ko"), (2_516_582, "2,4\u00a0Mo")],
)
def test_sizes_in_french(size, label):
    assert attachments.size_label(size) == label


# Request size ----------------------------------------------------------------------------------


def test_every_upload_endpoint_exists(app):
    assert attachments.UPLOAD_ENDPOINTS - set(app.view_functions) == set()


def _url(app, endpoint):
    rule = next(rule for rule in app.url_map.iter_rules() if rule.endpoint == endpoint)
    with app.test_request_context():
        return url_for(endpoint, **dict.fromkeys(rule.arguments, 1))


@pytest.mark.app_config(WTF_CSRF_ENABLED=True)
def test_a_body_over_the_limit_gets_the_french_413_page_before_anything_reads_it(app, client):
    """The CSRF check reads the form before any view: the limit is decided from the endpoint, before it."""
    upload_url = _url(app, "public.session_messages")
    too_large = {"content_type": "multipart/form-data; boundary=x", "headers": {"Accept": "text/html"}}

    refused = client.post(upload_url, data=b"x" * (UPLOAD_REQUEST_MAX_BYTES + 1), **too_large)
    assert refused.status_code == 413
    assert "Envoi trop volumineux" in _text(refused)
    # Under the upload limit, a body far larger than a form passes the size check (and meets the CSRF one).
    assert client.post(upload_url, data={"pieces_jointes": (b"x" * 2 * REQUEST_MAX_BYTES, "a.txt")}).status_code == 400

    # Any other page takes a small form only.
    login = client.post("/connexion", data={"email": "a@example.com", "password": "x" * (REQUEST_MAX_BYTES + 1)})
    assert login.status_code == 413
    assert "Envoi trop volumineux" in _text(login)


# The settings page -----------------------------------------------------------------------------


def test_the_settings_page_says_where_files_are_kept(app, client, login_as):
    login_as("admin")
    page = _text(client.get("/admin/parametres/"))
    assert "Stockage des pièces jointes</th><td>base de données" in page
    assert "10 Mo par fichier, 5 par message" in page


def test_the_s3_settings_show_the_store_but_never_its_secret():
    config = {
        "ATTACHMENT_STORAGE": "s3",
        "ATTACHMENT_S3_BUCKET": "fichiers-4as",
        "ATTACHMENT_S3_ENDPOINT_URL": "https://minio.example.com:9000/chemin",
        "ATTACHMENT_S3_REGION": "ca-central-1",
        "ATTACHMENT_S3_ACCESS_KEY_ID": "AKIAEXEMPLE",
        "ATTACHMENT_S3_SECRET_ACCESS_KEY": "secret-tres-long",
    }
    rows = {variable: value for _label, value, variable in _attachment_rows(config)}

    assert rows["ATTACHMENT_STORAGE"] == "S3"
    assert rows["ATTACHMENT_S3_BUCKET"] == "fichiers-4as"
    assert rows["ATTACHMENT_S3_ENDPOINT_URL"] == "minio.example.com"
    assert rows["ATTACHMENT_S3_ACCESS_KEY_ID"] == "configurés"
    assert not any("secret-tres-long" in str(value) or "AKIA" in str(value) for value in rows.values())
