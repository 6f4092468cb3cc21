"""Channel credentials encrypted at rest with Fernet; the first configured key encrypts, any decrypts.

Rotate by putting a new key first in CHANNEL_SECRET_KEYS, keeping the old ones after it, and
running re-encryption (reencrypt) before removing them.
"""

from __future__ import annotations

import json

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app


class CredentialError(RuntimeError):
    """Stored credentials cannot be decrypted with the configured keys."""


def _fernet() -> MultiFernet:
    keys = current_app.config["SERVICE_HUB"].channels.secret_keys
    return MultiFernet([Fernet(key.encode()) for key in keys])


def encrypt(credentials: dict[str, str]) -> str:
    return _fernet().encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()


def decrypt(token: str) -> dict[str, str]:
    if not token:
        return {}
    try:
        value = json.loads(_fernet().decrypt(token.encode()))
    except InvalidToken:
        raise CredentialError("channel credentials cannot be decrypted: CHANNEL_SECRET_KEYS lacks the key they were written with") from None
    return {str(k): str(v) for k, v in value.items()}


def reencrypt(token: str) -> str:
    """The same credentials under the current first key."""
    return _fernet().rotate(token.encode()).decode() if token else token
