"""HTTP routes of the audit package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
