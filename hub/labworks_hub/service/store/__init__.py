"""The platform store: SQLAlchemy 2 models, Alembic migrations, and the query layer.

Ownership and visibility checks live here, in the query functions, never in routers.
"""

from __future__ import annotations

from .db import Store, StoreError, redact_url
from .models import Account, Base

__all__ = ["Account", "Base", "Store", "StoreError", "redact_url"]
