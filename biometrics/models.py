"""SQLAlchemy models of the biometrics package."""

from __future__ import annotations
