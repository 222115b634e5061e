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
    "operator_head": "руководитель оператора",
    "platform_admin": "администратор платформы",
}

SIGNERS: dict[str, str] = {
    "subject": "участник",
    "guardian": "законный представитель",
}

# Why a destruction task was started (``consent.models.DestructionTask.reason``): the operator
# staff's console says it in words.
DESTRUCTION_REASONS: dict[str, str] = {
    "withdrawn": "согласие отозвано",
    "revoked": "согласие прекращено оператором",
    "expired": "срок согласия истёк",
    "dissemination_stop": "отозвано согласие на распространение",
}

# Where a status comes from (``idp.models.STATUS_SOURCES``).
STATUS_SOURCES: dict[str, str] = {
    "esia": "Госуслуги",
    "roster": "список школы",
    "appointment": "назначение",
    "derived": "по другому статусу",
    "admin": "администратор Пропуска",
}

# The periods of the operator's transfer statistics (``consent.console.service.PERIODS``).
PERIODS: dict[str, str] = {
    "week": "последние 7 дней",
    "month": "последние 30 дней",
    "year": "последние 365 дней",
}

# How a template's data are processed (``consent.templates.PROCESSING_METHODS``).
PROCESSING_METHODS: dict[str, str] = {
    "automated": "автоматизированная",
    "non_automated": "без средств автоматизации",
    "mixed": "смешанная",
}
