"""HTTP routes of the biometrics package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
