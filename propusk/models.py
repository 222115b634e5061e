"""All tables of all packages, for Alembic and tests (the packages own their models)."""

from __future__ import annotations

import audit.models
import biometrics.models
import consent.models
import idp.models
import idp.oidc.models
import policies.models  # noqa: F401
from propusk.db import Base

metadata = Base.metadata
