"""Sealing TOTP secrets, and the keyed digests of recovery codes.

A TOTP secret must be read back to check codes, so it cannot be hashed; it is stored
encrypted and authenticated with Fernet (the cryptography package: AES-CBC and an
HMAC-SHA256 tag), under a key derived from TWO_FACTOR_KEY (by default from SECRET_KEY). A copy
of the database alone reveals neither the secrets nor which recovery codes are valid.
Changing the key makes every enrolled authenticator unreadable: administrators then reset them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings

VERSION = "f1"


class SecretUnreadable(Exception):
    """A sealed secret that this key did not seal, or that was changed."""


def _key(purpose: bytes) -> bytes:
    root = (settings.TWO_FACTOR_KEY or settings.SECRET_KEY).encode()
    return hmac.new(root, b"studio two-factor " + purpose, hashlib.sha256).digest()


def _fernet() -> Fernet:
    return Fernet(base64.urlsafe_b64encode(_key(b"encryption")))


def seal(plain: bytes) -> str:
    return VERSION + "$" + _fernet().encrypt(plain).decode()


def unseal(sealed: str) -> bytes:
    version, _, token = sealed.partition("$")
    if version != VERSION:
        raise SecretUnreadable("not a sealed secret")
    try:
        return _fernet().decrypt(token.encode())
    except InvalidToken:
        raise SecretUnreadable("sealed with another key, or changed") from None


def recovery_digest(code: str) -> str:
    """The stored form of a recovery code (already normalised)."""
    return hmac.new(_key(b"recovery codes"), code.encode(), hashlib.sha256).hexdigest()


def challenge_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
