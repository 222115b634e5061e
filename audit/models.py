"""SQLAlchemy models of the audit package."""

from __future__ import annotations
