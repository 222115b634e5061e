"""The organisations, templates and values of the lived-in demo (``propusk.demo_states``).

Plain data: a second operator (an olympiad centre) and a supplier (the school e-journal), both
with valid ИНН/ОГРН and storage in Russia; the templates each persona's consents are asked on
(Russian texts with every element of 152-FZ art. 9 part 4); the values the e-journal writes.
"""

from __future__ import annotations

from typing import Any

DEMO_ACTOR = "system:demo-states"
KEY_PREFIX = "demo.states."
OPERATOR_OID = "1000500002"  # ГБУ ТО «РЦЦО», the demo's operator (ESIA simulator fixture)

OLYMPIAD_CENTRE: dict[str, Any] = {
    "kind": "operator",
    "name": "АНО «Центр олимпиадной подготовки „Эрудит“»",
    "inn": "6950218736",
    "ogrn": "1196900012341",
    "address": "170100, г. Тверь, ул. Трёхсвятская, д. 6",
    "storage_country": "RU",
    "storage_location": "ЦОД АНО «Эрудит», г. Тверь",
    "registry_number": "69-19-000456",
}
SUPPLIER: dict[str, Any] = {
    "kind": "supplier",
    "name": "ООО «Электронный журнал»",
    "inn": "7728945610",
    "ogrn": "1207700456787",
    "address": "117342, г. Москва, ул. Профсоюзная, д. 65, стр. 1",
    "storage_country": "RU",
    "storage_location": "ЦОД «Москва-2», г. Москва",
    "registry_number": "77-20-004321",
}

_WITHDRAWAL = "В личном кабинете «Пропуска» или письменным заявлением оператору"
_ACTIONS = ["сбор", "запись", "хранение", "использование", "передача"]


def _text(operator: str, data: str, purpose: str, term: str, extra: str = "") -> str:
    return (
        f"Я даю согласие {operator} на обработку персональных данных: {data} — в целях: "
        f"{purpose}. Действия с данными: сбор, запись, хранение, использование, передача "
        f"(предоставление). Способ обработки: автоматизированный. {extra}Срок действия "
        f"согласия: {term}. Согласие может быть отозвано в личном кабинете «Пропуска» или "
        "письменным заявлением оператору."
    )


_RCCO = "ГБУ ТО «Региональный центр цифрового образования» (ОГРН 1166952012347, г. Тверь)"
_ERUDIT = "АНО «Центр олимпиадной подготовки „Эрудит“» (ОГРН 1196900012341, г. Тверь)"


def _template(short: str, text: str, purpose: str, categories: list[str], **over) -> dict:
    """A publication with the demo's usual terms: automated, a year, any form, 30 days to
    answer (``over`` changes them)."""
    return {
        "key": KEY_PREFIX + short,
        "text": text,
        "purpose": purpose,
        "categories": categories,
        "actions": _ACTIONS,
        "processing_methods": ["automated"],
        "term_days": 365,
        "withdrawal_method": _WITHDRAWAL,
        "form": "any",
        "request_ttl_days": 30,
        **over,
    }


# short name → (owner: "operator" | "olympiad", the template's publication)
TEMPLATES: dict[str, tuple[str, dict[str, Any]]] = {
    "attestation": (
        "operator",
        _template(
            "attestation",
            _text(
                _RCCO,
                "фамилия, имя, отчество; оценки и результаты аттестации; посещаемость",
                "проведение онлайн-аттестации по курсам цифровой образовательной среды",
                "один год",
                "Сведения об оценках и посещаемости предоставляет ООО «Электронный журнал». ",
            ),
            "attestation.online",
            ["person.fullname", "education.grades", "education.attendance"],
        ),
    ),
    "statistics": (
        "operator",
        _template(
            "statistics",
            _text(
                _RCCO,
                "оценки и результаты аттестации; посещаемость",
                "региональная статистика образования",
                "один год",
            ),
            "statistics.regional",
            ["education.grades", "education.attendance"],
        ),
    ),
    "biometric": (
        "operator",
        _template(
            "biometric",
            f"Я даю письменное согласие {_RCCO} на обработку биометрических персональных "
            "данных (шаблон изображения лица) в целях идентификации участника при "
            "онлайн-аттестации. Действия: сбор, хранение, использование. Способ обработки: "
            "автоматизированный. Срок действия согласия: один год. Согласие может быть "
            "отозвано в личном кабинете «Пропуска»; шаблон уничтожается при отзыве.",
            "biometric.identification",
            ["biometric.face_template"],
            actions=["сбор", "хранение", "использование"],
            withdrawal_method="В личном кабинете «Пропуска»",
            form="written",
        ),
    ),
    "olympiad": (
        "olympiad",
        _template(
            "olympiad",
            _text(
                _ERUDIT,
                "фамилия, имя, отчество; дата рождения; достижения (олимпиады, конкурсы); "
                "адрес электронной почты",
                "регистрация участника олимпиады",
                "180 дней",
            ),
            "olympiad.registration",
            ["person.fullname", "person.birthdate", "education.achievements", "contact.email"],
            term_days=180,
        ),
    ),
    "publication": (
        "olympiad",
        _template(
            "publication",
            _text(
                _ERUDIT,
                "фамилия, имя; достижения (олимпиады, конкурсы)",
                "публикация достижений участника на сайте ЦОС",
                "один год",
                "Данные распространяются: публикуются на сайте центра. ",
            ),
            "achievements.publication",
            ["person.fullname", "education.achievements"],
            conditions="Публикуются только фамилия, имя и достижения; их передача третьим лицам "
            "и публикация в социальных сетях запрещены.",
            request_ttl_days=14,
        ),
    ),
}

# What the e-journal writes for each subject besides their name (its consent covers these).
VAULT_VALUES: dict[str, Any] = {
    "education.grades": {
        "Математика": "5",
        "Русский язык": "4",
        "Информатика": "5",
        "Физика": "4",
    },
    "education.attendance": {"уроков по плану": 312, "пропущено": 9, "по болезни": 7},
}
