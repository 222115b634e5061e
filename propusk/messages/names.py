"""Russian names of the states and roles the answers carry as codes.

* ``STATES`` — a consent's state (``consent.models.STATES``), as a phrase that reads after a
  label and on a badge: «Состояние: действует», «Согласия нет: последнее — отозвано». Neuter
  (it is a «согласие»), lower case, no final full stop.
* ``STATE_HELP`` — what the state means for the data, one sentence (receipt, verification and
  signing pages).
* ``ROLES`` — a person's status in a school or organisation (``idp.models.ROLES``).
* ``SIGNERS`` — who signed a consent (a signature's ``role``): the subject or a representative.
"""

from __future__ import annotations

STATES: dict[str, str] = {
    "requested": "ждёт ответа",
    "partially_given": "подписано частично",
    "given": "действует",
    "refused": "отказано",
    "withdrawn": "отозвано",
    "revoked": "прекращено оператором",
    "suspended": "обработка приостановлена",
    "expired": "срок действия истёк",
}

STATE_HELP: dict[str, str] = {
    "requested": "Оператор ждёт ответа; данные не передаются.",
    "partially_given": "Нужна ещё одна подпись; до неё данные не передаются.",
    "given": "Оператор может получать перечисленные данные для этой цели до конца срока.",
    "refused": "Данные по этому запросу не передаются.",
    "withdrawn": (
        "Передача данных прекращена; оператор обязан прекратить обработку и уничтожить данные "
        "в установленный срок."
    ),
    "revoked": "Оператор прекратил согласие; данные не передаются.",
    "suspended": "Передача данных приостановлена.",
    "expired": "Срок согласия истёк; данные не передаются.",
}

ROLES: dict[str, str] = {
    "student": "ученик",
    "parent": "родитель",
    "teacher": "учитель",
    "school_admin": "администратор школы",
    "proctor": "проктор",
    "operator_staff": "сотрудник оператора",
    "platform_admin": "администратор платформы",
}

SIGNERS: dict[str, str] = {
    "subject": "участник",
    "guardian": "законный представитель",
}
