"""All tables of all packages, for Alembic and tests (the packages own their models)."""

from __future__ import annotations

import audit.models  # noqa: F401
import biometrics.models  # noqa: F401
import consent.models  # noqa: F401
import idp.models
import idp.oidc.models  # noqa: F401
import policies.models  # noqa: F401
from propusk.db import Base

metadata = Base.metadata
