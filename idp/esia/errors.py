"""ESIA error codes (ESIA-0070xx) with their OAuth error, ESIA's description and a clear message.

The table serves both sides: the simulator answers with ``error`` + ``error_description``
(``"ESIA-007053: OAuthErrorEnum.clientSecretWrong"``, esia-notes §6) and the connector turns
such answers into ``UpstreamError`` with the ESIA code and a Russian message for the login page.
Failures found by the connector itself (state, token checks, transport) use ``esia.*`` codes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from idp.upstream import UpstreamError


@dataclass(frozen=True)
class EsiaCode:
    oauth_error: str
    description: str  # what ESIA puts after "ESIA-0070xx: "
    message: str  # for people (Russian)


ESIA_CODES: dict[str, EsiaCode] = {
    "ESIA-007002": EsiaCode(
        "invalid_client",
        "Client certificate does not match the client_id or is not registered",
        "Сертификат системы-клиента не соответствует её мнемонике или не зарегистрирован.",
    ),
    "ESIA-007003": EsiaCode(
        "invalid_request",
        "The request parameter is missing, invalid or repeated",
        "В запросе к ЕСИА неверный, отсутствующий или повторяющийся параметр.",
    ),
    "ESIA-007004": EsiaCode(
        "access_denied",
        "The resource owner or authorization server denied the request",
        "Вход отменён: пользователь или ЕСИА отклонили запрос.",
    ),
    "ESIA-007005": EsiaCode(
        "unauthorized_client",
        "The client is not authorized to request an access token using this method.",
        "Системе-клиенту не разрешено получать маркер доступа этим способом.",
    ),
    "ESIA-007006": EsiaCode(
        "invalid_scope",
        "The requested scope is invalid",
        "Запрошена неверная область доступа ЕСИА.",
    ),
    "ESIA-007007": EsiaCode(
        "server_error",
        "The authorization server encountered an unexpected condition",
        "Непредвиденная ошибка ЕСИА. Попробуйте войти ещё раз.",
    ),
    "ESIA-007008": EsiaCode(
        "temporarily_unavailable",
        "The authorization server is temporarily overloaded or under maintenance",
        "ЕСИА временно недоступна. Попробуйте войти позже.",
    ),
    "ESIA-007009": EsiaCode(
        "unsupported_grant_type",
        "The authorization grant type is not supported",
        "ЕСИА не поддерживает запрошенный способ получения маркера.",
    ),
    "ESIA-007011": EsiaCode(
        "invalid_grant",
        "The authorization code is invalid, expired, revoked, already used or was issued to "
        "another client",
        "Код авторизации ЕСИА недействителен, просрочен или уже использован. Войдите заново.",
    ),
    "ESIA-007012": EsiaCode(
        "unsupported_response_type",
        "The response type is not supported",
        "ЕСИА не поддерживает запрошенный тип ответа.",
    ),
    "ESIA-007013": EsiaCode(
        "invalid_scope",
        "The request does not contain a scope",
        "В запросе к ЕСИА не указана область доступа.",
    ),
    "ESIA-007014": EsiaCode(
        "invalid_request",
        "The request does not contain the mandatory parameter",
        "В запросе к ЕСИА нет обязательного параметра.",
    ),
    "ESIA-007015": EsiaCode(
        "invalid_request",
        "Wrong request time",
        "Неверное время запроса: часы системы расходятся с ЕСИА или запрос устарел.",
    ),
    "ESIA-007019": EsiaCode(
        "access_denied",
        "No permission to access the resource",
        "Нет разрешения на доступ к данным в ЕСИА.",
    ),
    "ESIA-007023": EsiaCode(
        "invalid_request",
        "The redirect_uri is not allowed for this client",
        "Адрес возврата не зарегистрирован для системы-клиента в ЕСИА.",
    ),
    "ESIA-007038": EsiaCode(
        "invalid_request",
        "The request parameters cannot be read",
        "ЕСИА не смогла прочитать параметры запроса.",
    ),
    "ESIA-007039": EsiaCode(
        "invalid_request",
        "code_challenge was not given in the original /v2/ac request",
        "В исходном запросе авторизации не было параметра code_challenge.",
    ),
    "ESIA-007040": EsiaCode(
        "invalid_grant",
        "code_verifier does not match code_challenge",
        "Проверка PKCE не пройдена: code_verifier не соответствует code_challenge.",
    ),
    "ESIA-007053": EsiaCode(
        "access_denied",
        "OAuthErrorEnum.clientSecretWrong",
        "Подпись запроса (client_secret) неверна или сертификат системы-клиента недействителен.",
    ),
    "ESIA-007055": EsiaCode(
        "access_denied",
        "The account is not confirmed",
        "Вход возможен только с подтверждённой учётной записью Госуслуг.",
    ),
    "ESIA-007194": EsiaCode(
        "invalid_scope",
        "Organization scope requested for a user who is not its employee",
        "Запрошены данные организации, сотрудником которой пользователь не является.",
    ),
    "ESIA-008010": EsiaCode(
        "invalid_client",
        "Client authentication failed",
        "ЕСИА не смогла аутентифицировать систему-клиента.",
    ),
}

# Failures detected on our side of the protocol.
LOCAL_CODES: dict[str, str] = {
    "esia.state_mismatch": "Ответ ЕСИА не относится к этому входу (state не совпадает). "
    "Начните вход заново.",
    "esia.login_expired": "Время на вход через Госуслуги истекло. Начните вход заново.",
    "esia.no_code": "ЕСИА не вернула код авторизации.",
    "esia.token_invalid": "Маркер доступа ЕСИА не прошёл проверку подписи.",
    "esia.token_expired": "Маркер доступа ЕСИА просрочен.",
    "esia.token_claims": "Маркер доступа ЕСИА выдан не нашей системе или другим издателем.",
    "esia.unreachable": "Госуслуги (ЕСИА) сейчас недоступны: Пропуск не смог с ними "
    "связаться. Это не связано с вашими данными. Попробуйте войти через несколько минут.",
    "esia.timeout": "Госуслуги (ЕСИА) не ответили вовремя. Это не связано с вашими данными. "
    "Попробуйте войти через несколько минут.",
    "esia.bad_response": "ЕСИА прислала ответ, который не удалось разобрать.",
    "esia.rest_forbidden": "ЕСИА не предоставила данные: доступ к ним не разрешён.",
    "esia.rest_failed": "Не удалось получить данные пользователя из ЕСИА.",
    "esia.misconfigured": "Подключение к ЕСИА настроено неверно.",
}

# The failures of ESIA itself being slow or away (not of the login): the login page says so
# and answers 503 with Retry-After; a relying party gets ``temporarily_unavailable``.
UNAVAILABLE_CODES = frozenset({"esia.unreachable", "esia.timeout", "ESIA-007008"})

_CODE_RE = re.compile(r"^\s*(ESIA-\d{6})\s*:?\s*(.*)$", re.S)


class EsiaError(UpstreamError):
    """An ``UpstreamError`` that also knows our pending authorization, when it could be read.

    ``txn_id`` lets the OIDC layer send the error back to the relying party; ``description`` is
    ESIA's own text (for logs, never shown as the message).
    """

    def __init__(
        self,
        code: str,
        message: str | None = None,
        *,
        txn_id: str | None = None,
        description: str | None = None,
    ) -> None:
        super().__init__(code, message or describe(code))
        self.txn_id = txn_id
        self.description = description


def transport_error(exc: httpx.HTTPError, where: str) -> EsiaError:
    """A call to ESIA that got no answer: ``esia.timeout`` when it ran out of time
    (``Settings.esia_timeout``), else ``esia.unreachable``. The description names the call and
    the exception class only (never a URL's query, a code or a token)."""
    code = "esia.timeout" if isinstance(exc, httpx.TimeoutException) else "esia.unreachable"
    return EsiaError(code, description=f"{type(exc).__name__} on {where}")


def describe(code: str) -> str:
    """The Russian message for an ESIA or local code."""
    if code in ESIA_CODES:
        return ESIA_CODES[code].message
    if code in LOCAL_CODES:
        return LOCAL_CODES[code]
    return "ЕСИА вернула ошибку " + code + "."


def error_description(code: str) -> str:
    """ESIA's ``error_description`` value: ``"ESIA-007053: OAuthErrorEnum.clientSecretWrong"``."""
    return f"{code}: {ESIA_CODES[code].description}"


def oauth_error(code: str) -> str:
    return ESIA_CODES[code].oauth_error


def from_oauth_error(
    error: str | None, description: str | None, *, txn_id: str | None = None
) -> EsiaError:
    """Map ``error``/``error_description`` from a redirect or a token response to an error."""
    match = _CODE_RE.match(description or "")
    if match:
        return EsiaError(match.group(1), txn_id=txn_id, description=description)
    fallback = {
        "access_denied": "ESIA-007004",
        "invalid_grant": "ESIA-007011",
        "invalid_scope": "ESIA-007006",
        "unauthorized_client": "ESIA-007005",
        "server_error": "ESIA-007007",
        "temporarily_unavailable": "ESIA-007008",
    }.get(error or "", "ESIA-007003")
    return EsiaError(fallback, txn_id=txn_id, description=description or error)
