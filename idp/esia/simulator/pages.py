"""The ESIA simulator's pages and files: the index, the login form, error and logout pages, the
signing certificate and the stylesheet.

The pages are Jinja2 templates of this package, with no inline script or style (Propusk's
Content-Security-Policy also covers the simulator when it is mounted at ``/esia-sim``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.templating import Jinja2Templates

from idp.esia import errors
from idp.esia.simulator.config import SimulatorConfig

HERE = Path(__file__).parent


def _simulator_base(request: Request) -> dict[str, str]:
    """Where the pages find the stylesheet, mounted (``/esia-sim``) or served alone."""
    return {"simulator_base": request.app.state.simulator_config.base_url.rstrip("/")}


TEMPLATES = Jinja2Templates(directory=str(HERE / "templates"), context_processors=[_simulator_base])


# What ESIA's consent screen calls the scopes a system asks for (codes it does not know are
# shown as they are).
SCOPE_NAMES = {
    "openid": "идентификатор пользователя",
    "fullname": "фамилия, имя, отчество",
    "birthdate": "дата рождения",
    "gender": "пол",
    "snils": "СНИЛС",
    "inn": "ИНН",
    "email": "адрес электронной почты",
    "mobile": "номер мобильного телефона",
    "usr_org": "организации пользователя",
    "kid_fullname": "ФИО детей",
    "kid_birthdate": "даты рождения детей",
    "kid_gender": "пол детей",
    "kid_snils": "СНИЛС детей",
}


def error_page(request: Request, code: str, status: int = 400) -> HTMLResponse:
    """ESIA's error page for a request it cannot send back to the client."""
    context = {"code": code, "message": errors.describe(code)}
    return TEMPLATES.TemplateResponse(request, "error.html", context, status_code=status)


def login_page(
    request: Request, *, rid: str, action: str, client_id: str, scopes: list[str], people: list
) -> HTMLResponse:
    """The login form: pick a demo person (or refuse) for the pending request ``rid``."""
    context = {
        "rid": rid,
        "action": action,
        "client_id": client_id,
        "scopes": [SCOPE_NAMES.get(s, s) for s in scopes],
        "people": [_login_card(p) for p in people],
    }
    return TEMPLATES.TemplateResponse(request, "login.html", context)


def _login_card(person: dict[str, Any]) -> dict[str, Any]:
    name = " ".join(
        p for p in (person["lastName"], person["firstName"], person.get("middleName")) if p
    )
    return {
        "oid": person["oid"],
        "name": name,
        "birth_date": person["birthDate"],
        "label": person.get("label", ""),
        "trusted": bool(person.get("trusted")),
    }


class Pages:
    """The simulator's own pages and files (no protocol state)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config

    async def index(self, request: Request) -> Response:
        return TEMPLATES.TemplateResponse(
            request, "index.html", {"base": self.config.base_url, "clients": self.config.clients}
        )

    async def cert_pem(self, request: Request) -> Response:
        return Response(self.config.certificate.pem(), media_type="application/x-pem-file")

    async def cert_der(self, request: Request) -> Response:
        return Response(self.config.signer.certificate_der, media_type="application/pkix-cert")

    async def stylesheet(self, request: Request) -> Response:
        """The pages' styles, a file: Propusk's pages allow no inline style (propusk.headers)."""
        return FileResponse(HERE / "static" / "simulator.css", media_type="text/css")

    async def logout(self, request: Request) -> Response:
        """``/idp/ext/Logout?client_id=…&redirect_url=…`` (no signature, notes §7)."""
        params = request.query_params
        client = self.config.clients.get(params.get("client_id", ""))
        target = params.get("redirect_url")
        if client and target and client.allows_redirect(target):
            return RedirectResponse(target, status_code=302)
        return TEMPLATES.TemplateResponse(request, "logout.html", {})
