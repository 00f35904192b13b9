"""LabworksAuthenticator: passwords checked against Argon2 hashes in the platform store."""

from __future__ import annotations

import asyncio

from jupyterhub.auth import Authenticator
from traitlets import Unicode, default

from .service.store import Store
from .service.store.accounts import verify_password


class LabworksAuthenticator(Authenticator):
    """Accounts are created with `labworks users add`; groups and the admin flag come from the
    account at each login (`manage_groups`), so the store is the one source of truth. Disabled
    and deleted accounts cannot log in (`verify_password` refuses them)."""

    db_url = Unicode(help="Platform store URL holding the accounts.").tag(config=True)

    @default("manage_groups")
    def _default_manage_groups(self):
        return True

    @default("allow_all")
    def _default_allow_all(self):
        # Only people with an account can authenticate at all; every one of them is allowed.
        return True

    _store: Store | None = None

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.db_url)
        return self._store

    def _check(self, name: str, password: str) -> dict | None:
        with self.store.session() as session:
            account = verify_password(session, name, password)
            if account is None:
                return None
            return {"name": account.name, "admin": account.admin, "groups": list(account.groups)}

    async def authenticate(self, handler, data):
        name = self.normalize_username((data or {}).get("username", ""))
        password = (data or {}).get("password", "")
        if not name or not password:
            return None
        model = await asyncio.to_thread(self._check, name, password)
        if model is None:
            self.log.warning("Failed login for %r", name)
        return model
