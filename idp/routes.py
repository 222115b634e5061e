"""HTTP routes of the idp package."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
