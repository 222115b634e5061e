"""Russian sentences for request validation errors (pydantic / FastAPI error types).

A 422 ``validation-error`` problem lists ``errors: [{loc, msg, type, ctx?}]``
(``propusk.errors``; ``ctx`` holds the numeric limits only). Each becomes one sentence from a
template of its ``type``: the ``field`` form names the field in Russian when ``FIELD_LABELS``
knows it, the ``plain`` form says the same without naming it (a field a person never types is
not shown by its code name).

Templates use ``{field}`` (the label), ``{name}`` (a number from ``ctx``) and
``{name|one|few|many}`` (the number with the Russian plural form that agrees with it:
«не меньше 1 символа», «… 3 символов»). ``static/api.js`` fills the same templates from
``GET /api/v1/messages``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel


class Template(BaseModel):
    """One validation error type's sentence, with and without the field's name."""

    field: str
    plain: str


def _t(field: str, plain: str) -> Template:
    return Template(field=field, plain=plain)


CHARS = "символа|символов|символов"
ITEMS = "значения|значений|значений"

_GROUPS: list[tuple[tuple[str, ...], Template]] = [
    (("missing",), _t("Заполните поле «{field}».", "Не заполнено обязательное поле.")),
    (
        ("string_too_short",),
        _t(
            "Поле «{field}» слишком короткое: нужно не меньше {min_length|" + CHARS + "}.",
            "Текст слишком короткий: нужно не меньше {min_length|" + CHARS + "}.",
        ),
    ),
    (
        ("string_too_long",),
        _t(
            "Поле «{field}» слишком длинное: можно не больше {max_length|" + CHARS + "}.",
            "Текст слишком длинный: можно не больше {max_length|" + CHARS + "}.",
        ),
    ),
    (
        ("string_pattern_mismatch",),
        _t("Поле «{field}» заполнено в неверном формате.", "Значение в неверном формате."),
    ),
    (("string_type",), _t("В поле «{field}» нужен текст.", "Нужен текст.")),
    (
        ("string_unicode", "string_sub_type"),
        _t("В поле «{field}» есть недопустимые символы.", "В тексте есть недопустимые символы."),
    ),
    (
        ("uuid_parsing", "uuid_type", "uuid_version"),
        _t("В поле «{field}» неверная ссылка на запись.", "Неверная ссылка на запись."),
    ),
    (
        ("int_parsing", "int_type", "int_from_float", "int_parsing_size"),
        _t("В поле «{field}» нужно целое число.", "Нужно целое число."),
    ),
    (
        ("float_parsing", "float_type", "decimal_parsing", "decimal_type", "finite_number"),
        _t("В поле «{field}» нужно число.", "Нужно число."),
    ),
    (
        ("bool_parsing", "bool_type"),
        _t("В поле «{field}» нужно ответить «да» или «нет».", "Нужно ответить «да» или «нет»."),
    ),
    (
        ("greater_than",),
        _t("Значение поля «{field}» должно быть больше {gt}.", "Значение должно быть больше {gt}."),
    ),
    (
        ("greater_than_equal",),
        _t(
            "Значение поля «{field}» должно быть не меньше {ge}.",
            "Значение должно быть не меньше {ge}.",
        ),
    ),
    (
        ("less_than",),
        _t("Значение поля «{field}» должно быть меньше {lt}.", "Значение должно быть меньше {lt}."),
    ),
    (
        ("less_than_equal",),
        _t(
            "Значение поля «{field}» должно быть не больше {le}.",
            "Значение должно быть не больше {le}.",
        ),
    ),
    (
        ("multiple_of",),
        _t(
            "Значение поля «{field}» должно делиться на {multiple_of}.",
            "Значение должно делиться на {multiple_of}.",
        ),
    ),
    (
        ("enum", "literal_error", "union_tag_invalid", "union_tag_not_found"),
        _t(
            "В поле «{field}» выберите одно из предложенных значений.",
            "Выберите одно из предложенных значений.",
        ),
    ),
    (
        ("too_short",),
        _t(
            "В поле «{field}» нужно не меньше {min_length|" + ITEMS + "}.",
            "Нужно не меньше {min_length|" + ITEMS + "}.",
        ),
    ),
    (
        ("too_short_one",),  # a list that must not be empty (min_length 1)
        _t("В поле «{field}» выберите хотя бы одно значение.", "Выберите хотя бы одно значение."),
    ),
    (
        ("too_long",),
        _t(
            "В поле «{field}» можно не больше {max_length|" + ITEMS + "}.",
            "Можно не больше {max_length|" + ITEMS + "}.",
        ),
    ),
    (
        ("list_type", "tuple_type", "set_type", "frozen_set_type", "iterable_type"),
        _t("В поле «{field}» нужен список значений.", "Нужен список значений."),
    ),
    (
        ("dict_type", "model_type", "model_attributes_type", "dataclass_type"),
        _t("Поле «{field}» заполнено в неверном формате.", "Данные запроса в неверном формате."),
    ),
    (
        ("json_invalid", "json_type"),
        _t("Поле «{field}» не удалось прочитать.", "Данные запроса не удалось прочитать."),
    ),
    (
        ("extra_forbidden",),
        _t("Поле «{field}» здесь не предусмотрено.", "В запросе есть лишнее поле."),
    ),
    (
        (
            "date_parsing",
            "date_from_datetime_parsing",
            "date_from_datetime_inexact",
            "date_type",
        ),
        _t("В поле «{field}» нужна дата.", "Нужна дата."),
    ),
    (("date_future",), _t("Дата в поле «{field}» должна быть в будущем.", "Нужна дата в будущем.")),
    (("date_past",), _t("Дата в поле «{field}» должна быть в прошлом.", "Нужна дата в прошлом.")),
    (
        (
            "datetime_parsing",
            "datetime_from_date_parsing",
            "datetime_type",
            "datetime_object_invalid",
            "time_parsing",
            "time_type",
        ),
        _t("В поле «{field}» нужны дата и время.", "Нужны дата и время."),
    ),
    (
        ("timezone_aware",),
        _t(
            "В поле «{field}» укажите дату и время с часовым поясом.",
            "Укажите дату и время с часовым поясом.",
        ),
    ),
    (
        ("timezone_naive",),
        _t(
            "В поле «{field}» укажите дату и время без часового пояса.",
            "Укажите дату и время без часового пояса.",
        ),
    ),
    (
        ("url_parsing", "url_type", "url_scheme", "url_syntax_violation", "url_too_long"),
        _t("В поле «{field}» нужна правильная ссылка.", "Нужна правильная ссылка."),
    ),
    (
        ("bytes_too_long",),
        _t("Файл в поле «{field}» слишком большой.", "Файл слишком большой."),
    ),
    (
        ("bytes_too_short", "bytes_type"),
        _t("Файл в поле «{field}» не подходит.", "Файл не подходит."),
    ),
    (
        ("value_error", "assertion_error", "is_instance_of", "none_required"),
        _t("Поле «{field}» заполнено неверно.", "Значение заполнено неверно."),
    ),
]
TEMPLATES: dict[str, Template] = {kind: tpl for kinds, tpl in _GROUPS for kind in kinds}
DEFAULT = _t("Поле «{field}» заполнено неверно.", "Данные заполнены неверно.")

# Fields people type or pick in the pages (request bodies, forms and query parameters);
# ``parent.field`` wins over ``field`` for a nested one.
FIELD_LABELS: dict[str, str] = {
    "categories": "Категории данных",
    "correction": "Верные сведения",
    "proof": "Подтверждение",
    "reason": "Причина",
    "consent_id": "Согласие",
    "operator_id": "Оператор",
    "subject": "Участник",
    "subject_id": "Участник",
    "person_id": "Участник",
    "photos": "Фотографии",
    "file": "Файл",
    "frames": "Кадры",
    "frame": "Кадр",
    "nonce": "Проверка",
    "decision": "Решение",
    "note": "Основание решения",
    "identity_document": "Документ",
    "identity_document.type": "Вид документа",
    "number_last4": "Последние 4 цифры номера документа",
    "matches_photo": "Документ совпадает с лицом",
    "course": "Предмет",
    "title": "Название",
    "opens_at": "Начало",
    "closes_at": "Окончание",
    "takers": "Участники",
    "keep_frames_days": "Срок хранения кадров",
    "purpose": "Цель обработки",
    "description": "Описание",
    "summary": "Содержание",
    "limit": "Количество записей",
    "name": "Название",
    "inn": "ИНН",
    "ogrn": "ОГРН",
    "address": "Адрес",
    "kind": "Вид",
    "country": "Страна нахождения",
    "storage_country": "Страна хранения данных",
    "storage_location": "Место хранения данных",
    "registry_number": "Номер в реестре операторов",
    "cross_border_notice_ref": "Уведомление о трансграничной передаче",
    "client_id": "Приложение",
    "grant_types": "Способ входа",
    "redirect_uris": "Адреса возврата",
    "role": "Роль",
    "organization_id": "Организация",
    "domain": "Где действует",
    "object": "Объект",
    "action": "Действие",
    "condition": "Условие",
}

# At least one character / item: simply «заполните», «выберите хотя бы одно».
WHEN_ONE = {"string_too_short": "missing", "too_short": "too_short_one"}
_SLOT = re.compile(r"\{(\w+)(?:\|([^|{}]*)\|([^|{}]*)\|([^|{}]*))?\}")
_PLACES = frozenset({"body", "query", "path", "header", "cookie", "form"})


def plural(n: int, one: str, few: str, many: str) -> str:
    """The Russian form agreeing with ``n`` (1, 21 → one; 2–4, 22 → few; else many)."""
    n = abs(n)
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many


def fill(template: str, values: Mapping[str, Any]) -> str | None:
    """The template with its slots filled, or None when ``values`` lacks one of them."""
    missing = False

    def slot(m: re.Match[str]) -> str:
        nonlocal missing
        value = values.get(m[1])
        if value is None:
            missing = True
            return ""
        if m[2] is None:
            return str(value)
        form = plural(value, m[2], m[3], m[4]) if isinstance(value, int) else m[4]
        return f"{value} {form}"

    text = _SLOT.sub(slot, template)
    return None if missing else text


def field_label(loc: list[Any] | tuple[Any, ...]) -> str | None:
    """The Russian label of the field an error's ``loc`` points at (list indexes skipped)."""
    names = [str(p) for p in loc if isinstance(p, str) and p not in _PLACES]
    if not names:
        return None
    if len(names) >= 2 and (label := FIELD_LABELS.get(".".join(names[-2:]))):
        return label
    return FIELD_LABELS.get(names[-1])


def validation_text(error: Mapping[str, Any]) -> str:
    """One Russian sentence for one validation error (``{loc, type, ctx?}``)."""
    kind = str(error.get("type", ""))
    ctx = error.get("ctx") or {}
    if kind in WHEN_ONE and ctx.get("min_length") == 1:
        kind = WHEN_ONE[kind]
    template = TEMPLATES.get(kind, DEFAULT)
    label = field_label(error.get("loc") or ())
    values = {**ctx, "field": label}
    if label is not None:
        return fill(template.field, values) or fill(DEFAULT.field, values) or DEFAULT.plain
    return fill(template.plain, values) or DEFAULT.plain
