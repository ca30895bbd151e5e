"""Any S3-compatible store (AWS, R2, B2, MinIO, Wasabi) at BACKUP_S3_URL = s3://bucket/prefix.

Credentials come from boto3's usual chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a profile,
or an instance role); BACKUP_S3_ENDPOINT_URL points it at a non-AWS store.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from release_notifier.backup.destinations import StoredBackup
from release_notifier.backup.errors import BackupError
from release_notifier.backup.fileformat import taken_at_from_name
from release_notifier.settings import ConfigError


def parse_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/some/prefix` -> ("bucket", "some/prefix/"); ConfigError when malformed."""
    parts = urlsplit(url)
    if parts.scheme != "s3" or not parts.netloc or parts.query or parts.fragment:
        raise ConfigError("BACKUP_S3_URL: must look like s3://bucket or s3://bucket/prefix")
    prefix = parts.path.strip("/")
    return parts.netloc, f"{prefix}/" if prefix else ""


class S3Destination:
    """Dated copies under the prefix; each PUT is atomic on the store's side."""

    kind = "s3"

    def __init__(self, url: str, *, endpoint_url: str = "") -> None:
        self.bucket, self.prefix = parse_s3_url(url)
        self.endpoint_url = endpoint_url
        self._client: Any = None

    def describe(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def client(self) -> Any:
        if self._client is None:
            self._client = boto3.client(
                "s3",
                endpoint_url=self.endpoint_url or None,
                config=Config(connect_timeout=20, read_timeout=60, retries={"max_attempts": 3}),
            )
        return self._client

    def store(self, name: str, blob: bytes) -> list[str]:
        key = self.prefix + name
        with s3_errors(f"upload s3://{self.bucket}/{key}"):
            self.client().put_object(Bucket=self.bucket, Key=key, Body=blob)
        return [f"s3://{self.bucket}/{key}"]

    def list_backups(self) -> list[StoredBackup]:
        found = []
        with s3_errors(f"list s3://{self.bucket}/{self.prefix}"):
            pages = self.client().get_paginator("list_objects_v2")
            for page in pages.paginate(Bucket=self.bucket, Prefix=self.prefix):
                for item in page.get("Contents", []):
                    name = item["Key"][len(self.prefix) :]
                    taken_at = taken_at_from_name(name)
                    if taken_at is not None:
                        found.append(
                            StoredBackup(
                                destination=self.kind,
                                name=name,
                                location=f"s3://{self.bucket}/{item['Key']}",
                                taken_at=taken_at,
                                size=int(item["Size"]),
                            )
                        )
        return found

    def fetch(self, backup: StoredBackup) -> bytes:
        key = self.prefix + backup.name
        with s3_errors(f"download s3://{self.bucket}/{key}"):
            body = self.client().get_object(Bucket=self.bucket, Key=key)["Body"]
            return bytes(body.read())

    def delete(self, backup: StoredBackup) -> None:
        key = self.prefix + backup.name
        with s3_errors(f"delete s3://{self.bucket}/{key}"):
            self.client().delete_object(Bucket=self.bucket, Key=key)


@contextmanager
def s3_errors(action: str) -> Iterator[None]:
    """Turn boto3 failures into BackupError naming the action and the store's error code."""
    try:
        yield
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code", "error")
        raise BackupError(f"S3 could not {action}: {code}") from None
    except BotoCoreError as exc:
        raise BackupError(f"S3 could not {action}: {exc}") from None
