"""Debian Chromium for the browser tests (Playwright cannot download its own here)."""

from __future__ import annotations

import shutil

from tests.support.settings import needs_tool

CHROMIUM = "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
needs_chromium = needs_tool(bool(shutil.which(CHROMIUM)), "Debian chromium is not installed")
