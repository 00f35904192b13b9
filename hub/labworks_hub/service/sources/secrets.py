"""Sources' credentials sealed at rest: Fernet (AES-128-CBC with HMAC-SHA256, from
`cryptography`) under the platform's key, so the store (and its backups) hold only tokens.

The key is `c.DataSources.secret_key`, else `$LABWORKS_SOURCES_KEY`, else a key file the
service creates on first use in its state directory (`secrets/sources.key`, mode 0600, the
platform account's). `previous_secret_keys` still open what older keys sealed, so a key can be
rotated: set the new one, keep the old one there, and `labworks sources` updates re-seal.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from ..access import Unavailable

KEY_ENV = "LABWORKS_SOURCES_KEY"


def fernet_key(text: str) -> bytes:
    """`text` itself when it is a Fernet key (32 bytes, URL-safe base64), else a key derived
    from it (SHA-256), so a passphrase works too."""
    try:
        if len(base64.urlsafe_b64decode(text.encode())) == 32:
            return text.encode()
    except (binascii.Error, ValueError):
        pass
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest())


def key_file(state_dir: str) -> str:
    """The key in `<state_dir>/secrets/sources.key`, made (0600, in a 0700 folder) when there
    is none; O_EXCL so two starting services agree on one."""
    folder = Path(state_dir) / "secrets"
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = folder / "sources.key"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as f:
        key = Fernet.generate_key().decode()
        f.write(key + "\n")
    return key


class SourceSecrets:
    """Seals and opens credentials; `keys[0]` seals, every key opens."""

    def __init__(self, keys: list[str]) -> None:
        self._fernet = MultiFernet([Fernet(fernet_key(k)) for k in keys])

    def seal(self, credentials: dict[str, Any]) -> str:
        return self._fernet.encrypt(json.dumps(credentials).encode()).decode()

    def open(self, token: str) -> dict[str, Any]:
        """The credentials; Unavailable when no key of this platform opens them (the key
        changed without `previous_secret_keys`)."""
        if not token:
            return {}
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise Unavailable(
                "the source's credentials cannot be opened with the platform's key (it changed);"
                " its owner sets them again, or an administrator restores the previous key in"
                " c.DataSources.previous_secret_keys"
            ) from None
