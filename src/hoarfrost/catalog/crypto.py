"""Secrets at rest: AES-256-GCM (authenticated) with a key from HOARFROST_MASTER_KEY or a 0600
key file in the account home.

The associated data binds each ciphertext to the object it belongs to, so a ciphertext copied
onto another secret's row does not decrypt.
"""

from __future__ import annotations

import base64
import binascii
import os
import tempfile
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from hoarfrost.errors import ConfigurationError, InternalError

__all__ = ["KeyRing"]

_NONCE = 12
KEY_FILE = "master.key"


class KeyRing:
    def __init__(self, key: bytes):
        if len(key) != 32:
            raise ConfigurationError("The master key must be 32 bytes (base64-encoded).")
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "KeyRing(<key hidden>)"

    @classmethod
    def load(cls, home: Path | None, master_key: str | None) -> KeyRing:
        if master_key:
            return cls(_decode(master_key))
        if home is None:
            return cls(AESGCM.generate_key(bit_length=256))
        return cls(_key_file(home / KEY_FILE))

    def encrypt(self, plaintext: bytes, aad: str) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, aad.encode())

    def decrypt(self, blob: bytes, aad: str) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], aad.encode())
        except InvalidTag:
            raise InternalError(
                "A stored secret cannot be decrypted: the master key differs from the one it was "
                "encrypted with (check HOARFROST_MASTER_KEY or the home's master.key)."
            ) from None


def _decode(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigurationError(
            "HOARFROST_MASTER_KEY must be 32 random bytes, base64-encoded "
            '(e.g. python -c "import os,base64;print(base64.b64encode(os.urandom(32)).decode())").'
        ) from None


def _key_file(path: Path) -> bytes:
    """The key in ``path``, created on first use.

    Created atomically: the key is written and synced to a 0600 temporary file in the same
    directory, then linked to its name. ``link`` fails when the name exists, so of concurrent
    first opens exactly one key wins, and every process reads that one whole (never a file that
    exists but is still being written).
    """
    if not path.exists():
        _create_key_file(path)
    return _decode(path.read_text().strip())


def _create_key_file(path: Path) -> None:
    key = AESGCM.generate_key(bit_length=256)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:  # mkstemp creates the file 0600
            fh.write(base64.b64encode(key).decode() + "\n")
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
        except FileExistsError:
            return  # another process created it first: everyone uses that key
        _sync_dir(path.parent)
    finally:
        os.unlink(tmp)


def _sync_dir(directory: Path) -> None:
    """Make the new name durable (a crash must not lose the key that encrypted secrets)."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
