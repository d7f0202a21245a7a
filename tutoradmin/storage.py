"""Where attachments' bytes live: one small interface, two back ends that every app server reaches (SPEC §8b).

`DatabaseStorage` (the default) keeps the bytes in `attachment_blobs`, written in the same transaction as the
message: a refused or failed request leaves nothing behind. `S3Storage` keeps them in an S3-compatible bucket
(boto3), for deployments whose database should not grow with files; an object written for a request whose
transaction then fails stays in the bucket, unreferenced and never served.

`ATTACHMENT_STORAGE` chooses where new files go. Each attachment row records its back end, and reading goes
through the row's (`storage_named`), so files written before a switch stay readable.
"""

import secrets

from flask import current_app
from sqlalchemy import select

from .errors import DomainError
from .extensions import db
from .models import AttachmentBlob, StorageBackend

#: Object names in the bucket start with this, so that the bucket may hold other things.
S3_PREFIX = "pieces-jointes/"
_EXTENSION_KEY = "tutoradmin.storage"


class StorageError(DomainError):
    """A file could not be written or read where the settings say it lives."""


def new_key():
    """A random storage key: never derived from the file's name, which the uploader chose."""
    return secrets.token_hex(20)


class DatabaseStorage:
    """Bytes in the `attachment_blobs` table, added to the current transaction (the caller commits)."""

    backend = StorageBackend.DATABASE.value

    def put(self, key, data, content_type):
        db.session.add(AttachmentBlob(storage_key=key, data=data))

    def get(self, key):
        data = db.session.scalar(select(AttachmentBlob.data).where(AttachmentBlob.storage_key == key))
        if data is None:
            raise StorageError("Ce fichier est introuvable dans la base de données.")
        return bytes(data)


class S3Storage:
    """Bytes in an S3-compatible bucket, written at once (before the transaction commits)."""

    backend = StorageBackend.S3.value

    def __init__(self, bucket, region=None, endpoint_url=None, access_key_id=None, secret_access_key=None):
        if not bucket:
            raise StorageError("Le stockage S3 des pièces jointes n'est pas configuré (ATTACHMENT_S3_BUCKET).")
        # Imported here: boto3 takes a moment to load, and deployments on the database never need it.
        import boto3
        from botocore.config import Config

        self.bucket = bucket
        # One client per app: boto3 clients are thread-safe and keep their connections.
        self.client = boto3.client(
            "s3",
            region_name=region,
            endpoint_url=endpoint_url,
            aws_access_key_id=access_key_id,
            aws_secret_access_key=secret_access_key,
            config=Config(connect_timeout=5, read_timeout=30, retries={"max_attempts": 3, "mode": "standard"}),
        )

    def _name(self, key):
        return S3_PREFIX + key

    def put(self, key, data, content_type):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data, ContentType=content_type)
        except (BotoCoreError, ClientError) as error:
            current_app.logger.error("attachment upload to S3 failed: %s", error)
            raise StorageError("Le fichier n'a pas pu être enregistré. Veuillez réessayer.") from error

    def get(self, key):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"].read()
        except (BotoCoreError, ClientError) as error:
            current_app.logger.error("attachment download from S3 failed: %s", error)
            raise StorageError("Ce fichier est momentanément indisponible. Veuillez réessayer.") from error


def _build(backend, config):
    if backend == StorageBackend.DATABASE:
        return DatabaseStorage()
    if backend == StorageBackend.S3:
        return S3Storage(
            config["ATTACHMENT_S3_BUCKET"],
            region=config["ATTACHMENT_S3_REGION"],
            endpoint_url=config["ATTACHMENT_S3_ENDPOINT_URL"],
            access_key_id=config["ATTACHMENT_S3_ACCESS_KEY_ID"],
            secret_access_key=config["ATTACHMENT_S3_SECRET_ACCESS_KEY"],
        )
    raise StorageError(f"Stockage de pièces jointes inconnu : {backend!r}.")


def _settings(backend, config):
    if str(backend) != StorageBackend.S3:
        return (str(backend),)
    names = ("BUCKET", "REGION", "ENDPOINT_URL", "ACCESS_KEY_ID", "SECRET_ACCESS_KEY")
    return (str(backend), *(config[f"ATTACHMENT_S3_{name}"] for name in names))


def storage_named(backend, app=None):
    """The back end called `backend` ('database' or 's3'), built once per app and settings."""
    app = app or current_app._get_current_object()
    built = app.extensions.setdefault(_EXTENSION_KEY, {})
    key = _settings(backend, app.config)
    if key not in built:
        built[key] = _build(str(backend), app.config)
    return built[key]


def get_storage(app=None):
    """Where new files go: the back end that ATTACHMENT_STORAGE names."""
    app = app or current_app._get_current_object()
    return storage_named(app.config["ATTACHMENT_STORAGE"], app)
