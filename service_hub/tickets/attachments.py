"""Attachment files live outside the database and outside any served folder, named by SHA-256."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from flask import current_app

CHUNK = 1024 * 1024


def storage_root() -> Path:
    root: Path = current_app.config["SERVICE_HUB"].attachment_dir
    root.mkdir(parents=True, exist_ok=True)
    return root


def path_for(sha256: str) -> Path:
    return storage_root() / sha256[:2] / sha256


def store_stream(stream: BinaryIO, max_bytes: int) -> tuple[str, int]:
    """Copy to a temporary file while hashing; move into place only when complete and in size."""
    root = storage_root()
    digest = hashlib.sha256()
    size = 0
    fd, tmp_name = tempfile.mkstemp(dir=root, prefix=".upload-")
    try:
        with os.fdopen(fd, "wb") as tmp:
            while chunk := stream.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise ValueError(f"attachment larger than {max_bytes} bytes")
                digest.update(chunk)
                tmp.write(chunk)
        sha = digest.hexdigest()
        final = path_for(sha)
        final.parent.mkdir(exist_ok=True)
        os.replace(tmp_name, final)  # same content, same name: duplicates cost no space
        return sha, size
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
