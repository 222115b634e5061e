"""HTTP routes of the policies package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
