"""SQLAlchemy models of the policies package."""

from __future__ import annotations
