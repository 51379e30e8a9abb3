"""Sealing TOTP secrets, and the keyed digests of recovery codes.

A TOTP secret must be read back to check codes, so it cannot be hashed; it is stored
encrypted and authenticated (encrypt-then-MAC from the standard library: HMAC-SHA256 in
counter mode as the key stream, HMAC-SHA256 over version, nonce and ciphertext as the tag),
with keys derived from TWO_FACTOR_KEY (by default from SECRET_KEY). A copy of the database
alone reveals neither the secrets nor which recovery codes are valid. Changing the key
makes every enrolled authenticator unreadable: administrators then reset them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from django.conf import settings

VERSION = b"v1"
NONCE_BYTES = 16
TAG_BYTES = 32


class SecretUnreadable(Exception):
    """A sealed secret that this key did not seal, or that was changed."""


def _key(purpose: bytes) -> bytes:
    root = (settings.TWO_FACTOR_KEY or settings.SECRET_KEY).encode()
    return hmac.new(root, b"studio two-factor " + purpose, hashlib.sha256).digest()


def _stream(nonce: bytes, length: int) -> bytes:
    key = _key(b"encryption")
    blocks = (length + 31) // 32
    return b"".join(hmac.new(key, nonce + i.to_bytes(4, "big"), hashlib.sha256).digest() for i in range(blocks))


def seal(plain: bytes) -> str:
    nonce = os.urandom(NONCE_BYTES)
    body = bytes(a ^ b for a, b in zip(plain, _stream(nonce, len(plain)), strict=False))
    tag = hmac.new(_key(b"authentication"), VERSION + nonce + body, hashlib.sha256).digest()
    return VERSION.decode() + "$" + base64.urlsafe_b64encode(nonce + body + tag).decode()


def unseal(sealed: str) -> bytes:
    version, _, payload = sealed.partition("$")
    try:
        raw = base64.urlsafe_b64decode(payload.encode())
    except ValueError:
        raise SecretUnreadable("not a sealed secret") from None
    if version.encode() != VERSION or len(raw) < NONCE_BYTES + TAG_BYTES:
        raise SecretUnreadable("not a sealed secret")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    expected = hmac.new(_key(b"authentication"), VERSION + nonce + body, hashlib.sha256).digest()
    if not hmac.compare_digest(tag, expected):
        raise SecretUnreadable("sealed with another key, or changed")
    return bytes(a ^ b for a, b in zip(body, _stream(nonce, len(body)), strict=False))


def recovery_digest(code: str) -> str:
    """The stored form of a recovery code (already normalised)."""
    return hmac.new(_key(b"recovery codes"), code.encode(), hashlib.sha256).hexdigest()


def challenge_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
