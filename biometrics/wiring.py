"""Wire the biometrics package into an app: routers, upload body limits, the consent hook."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from biometrics import liveness
from biometrics.enrolment import MAX_PHOTOS
from biometrics.pages import router as pages
from biometrics.retention import install_withdrawal_hook
from biometrics.routes import FRAME_BYTES, PHOTO_BYTES, router
from propusk.limits import allow_larger_body

STATIC = Path(__file__).parent / "static"
# Room for the multipart framing (boundaries, part headers, the small form fields) on top of the
# files a route accepts.
MULTIPART_MARGIN = 1024 * 1024


def upload_limits() -> list[tuple[str, str, int]]:
    """(name, path pattern, bytes) of the upload routes: what each route accepts, plus margin.

    Everything else keeps the app's default body limit (``Settings.max_body_bytes``).
    """
    return [
        (
            "biometric enrolment photos",
            r"/api/v1/biometrics/enrolments",
            MAX_PHOTOS * PHOTO_BYTES + MULTIPART_MARGIN,
        ),
        (
            "liveness frames",
            r"/api/v1/exams/sessions/[^/]+/liveness",
            liveness.MAX_FRAMES * FRAME_BYTES + MULTIPART_MARGIN,
        ),
        ("exam frame", r"/api/v1/exams/sessions/[^/]+/frames", FRAME_BYTES + MULTIPART_MARGIN),
    ]


def install(app: FastAPI) -> None:
    app.include_router(router)
    app.include_router(pages)
    app.mount("/static/biometrics", StaticFiles(directory=str(STATIC)), name="biometrics-static")
    for name, path, limit in upload_limits():
        allow_larger_body(app, name, path, limit)
    install_withdrawal_hook()
