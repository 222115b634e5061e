"""HTTP routes of the consent package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
