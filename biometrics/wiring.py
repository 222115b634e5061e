"""Wire the biometrics package into an app: routers, the upload-size guard, the consent hook."""

from __future__ import annotations

from fastapi import FastAPI

from propusk.errors import PROBLEM_JSON, TYPE_BASE

UPLOAD_PATHS = ("/api/v1/biometrics/", "/api/v1/exams/")
MAX_REQUEST_BYTES = 32 * 1024 * 1024


class UploadLimit:
    """Refuse oversized uploads by Content-Length before the multipart body is parsed."""

    def __init__(self, app, limit: int = MAX_REQUEST_BYTES) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(UPLOAD_PATHS):
            for name, value in scope.get("headers", ()):
                if name == b"content-length" and value.isdigit() and int(value) > self.limit:
                    await _too_large(send, self.limit)
                    return
        await self.app(scope, receive, send)


async def _too_large(send, limit: int) -> None:
    import json

    body = json.dumps(
        {
            "type": TYPE_BASE + "request-too-large",
            "title": "Payload too large",
            "status": 413,
            "detail": f"the request is larger than {limit} bytes",
        }
    ).encode()
    headers = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    await send({"type": "http.response.start", "status": 413, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def install(app: FastAPI) -> None:
    from pathlib import Path

    from fastapi.staticfiles import StaticFiles

    from biometrics.pages import router as pages
    from biometrics.routes import router
    from biometrics.service import install_withdrawal_hook

    app.include_router(router)
    app.include_router(pages)
    static = Path(__file__).parent / "static"
    app.mount("/static/biometrics", StaticFiles(directory=str(static)), name="biometrics-static")
    app.add_middleware(UploadLimit)
    install_withdrawal_hook()
