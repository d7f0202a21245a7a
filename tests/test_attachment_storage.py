"""The two places attachments' bytes live, behind one interface: the database, and an S3-compatible store.

The S3 store is moto's server, on 127.0.0.1 and a free port, for the whole test session.
"""

import pytest
from sqlalchemy import func, select

from tutoradmin import attachments, storage
from tutoradmin.attachments import attach, read_uploads
from tutoradmin.models import Attachment, AttachmentBlob, StorageBackend
from tutoradmin.storage import DatabaseStorage, S3Storage, StorageError

from . import attachment_samples as samples
from .attachment_samples import upload

BUCKET = "pieces-jointes-test"


@pytest.fixture(scope="session")
def s3_server():
    """moto's S3, with the bucket made; its URL."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    url = f"http://{host}:{port}"
    S3Storage(
        BUCKET, region="us-east-1", endpoint_url=url, access_key_id="test", secret_access_key="test"
    ).client.create_bucket(Bucket=BUCKET)
    yield url
    server.stop()


def _use_s3(app, url):
    app.config.update(
        ATTACHMENT_STORAGE="s3",
        ATTACHMENT_S3_BUCKET=BUCKET,
        ATTACHMENT_S3_ENDPOINT_URL=url,
        ATTACHMENT_S3_REGION="us-east-1",
        ATTACHMENT_S3_ACCESS_KEY_ID="test",
        ATTACHMENT_S3_SECRET_ACCESS_KEY="test",
    )


@pytest.fixture(params=["database", "s3"])
def backend(request, app):
    """Each test below runs once per storage: the app's ATTACHMENT_STORAGE set to it."""
    if request.param == "s3":
        _use_s3(app, request.getfixturevalue("s3_server"))
    else:
        app.config["ATTACHMENT_STORAGE"] = "database"
    return request.param


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def test_the_configured_storage_keeps_and_gives_back_the_bytes(app, backend):
    store = storage.get_storage()
    key = storage.new_key()

    store.put(key, b"%PDF-1.4 contenu", "application/pdf")

    assert store.backend == backend
    assert isinstance(store, {"database": DatabaseStorage, "s3": S3Storage}[backend])
    assert store.get(key) == b"%PDF-1.4 contenu"
    with pytest.raises(StorageError):
        store.get(storage.new_key())


def test_attached_files_record_where_they_are_and_read_back(db, make, now, backend):
    student = make.user()
    message = samples.ticket_message(db, student)
    files = [upload("énoncé.pdf", samples.pdf()), upload("photo.heic", samples.heic())]

    rows = attach(read_uploads(files), message=message, uploader=student, now=now)
    db.session.commit()

    stored = db.session.scalars(select(Attachment).order_by(Attachment.position)).all()
    assert [(row.position, row.filename, row.storage, row.size_bytes) for row in stored] == [
        (1, "énoncé.pdf", backend, len(samples.pdf())),
        (2, "photo.heic", backend, len(samples.heic())),
    ]
    assert [attachments.read(row) for row in rows] == [samples.pdf(), samples.heic()]
    # Keys are random, never the file's name; only the database storage adds rows for the bytes.
    assert all(len(row.storage_key) == 40 and "pdf" not in row.storage_key for row in stored)
    assert _count(db, AttachmentBlob) == (2 if backend == "database" else 0)


def test_a_failed_request_leaves_no_file_in_the_database(db, make, now):
    student = make.user()
    message = samples.ticket_message(db, student)
    attach(read_uploads([upload("a.pdf", samples.pdf())]), message=message, uploader=student, now=now)
    db.session.flush()

    db.session.rollback()

    assert (_count(db, Attachment), _count(db, AttachmentBlob)) == (0, 0)


def test_files_stay_readable_after_the_setting_changes(app, db, make, now, s3_server):
    student = make.user()
    message = samples.ticket_message(db, student)
    app.config["ATTACHMENT_STORAGE"] = "database"
    [old] = attach(read_uploads([upload("avant.txt", b"avant")]), message=message, uploader=student, now=now)
    _use_s3(app, s3_server)
    [new] = attach(read_uploads([upload("apres.txt", b"apres")]), message=message, uploader=student, now=now)
    db.session.commit()

    assert (old.storage, new.storage) == (StorageBackend.DATABASE, StorageBackend.S3)
    app.config["ATTACHMENT_STORAGE"] = "database"
    assert (attachments.read(old), attachments.read(new)) == (b"avant", b"apres")


def test_the_download_serves_the_bytes_from_either_storage(client, db, make, login, now, backend):
    student = make.user()
    message = samples.ticket_message(db, student)
    [attachment] = attach(
        read_uploads([upload("tableau.xlsx", samples.xlsx())]), message=message, uploader=student, now=now
    )
    db.session.commit()
    login(student)

    response = client.get(f"/pieces-jointes/{attachment.id}")

    assert (response.status_code, response.data) == (200, samples.xlsx())
    assert response.headers["Content-Type"] == attachment.content_type


def test_an_unreachable_store_is_a_french_error_not_a_crash(app, client, db, make, login, now, s3_server):
    student = make.user()
    message = samples.ticket_message(db, student)
    _use_s3(app, s3_server)
    [attachment] = attach(read_uploads([upload("a.txt", b"texte")]), message=message, uploader=student, now=now)
    db.session.commit()
    # The store moved away: nothing answers at this address.
    app.config["ATTACHMENT_S3_ENDPOINT_URL"] = "http://127.0.0.1:9"
    login(student)

    response = client.get(f"/pieces-jointes/{attachment.id}", headers={"Accept": "text/html"})

    assert response.status_code == 503
    assert "momentanément indisponible" in response.get_data(as_text=True)
