"""Russian names of the codes the platform administrator's console (``/admin``) reads.

* ``VERIFY`` — what ``audit verify`` found (``audit.verify.CODES``), a sentence each.
* ``OBLIGATION_KINDS`` — a 152-FZ obligation's kind (``consent.models.OBLIGATION_KINDS``) and
  the 30-day destruction task (``destruction``), as a noun phrase.
* ``CLOCKS`` — the deadline an obligation's clock counts (``consent.obligations.clocks``), and
  the reason a destruction task was started (``consent.destruction``).
* ``POLICY_OBJECTS`` / ``POLICY_ACTIONS`` / ``POLICY_CONDITIONS`` / ``POLICY_ROLES`` — the
  vocabulary of the access rules (``policies/policy.csv``; AGENTS.md lists it): what a rule
  opens, to whom and on which condition. ``POLICY_ROLES`` adds the roles of OAuth clients and
  the pseudo-roles to the people's roles (``names.ROLES``).
"""

from __future__ import annotations

VERIFY: dict[str, str] = {
    "checkpoint-invalid": "Подпись отметки журнала не сходится с ключом журнала.",
    "checkpoint-foreign": "Отметка журнала подписана для другого журнала.",
    "checkpoint-row": "Сохранённая отметка журнала не совпадает со своей подписью.",
    "empty-root": "Отметка пустого журнала содержит записи.",
    "event-missing": "Из журнала удалена запись.",
    "event-position": "Запись журнала стоит не на своём месте.",
    "root-differs": "Журнал не совпадает с подписанной отметкой: записи подменены.",
    "truncated": "Журнал укорочен: записей меньше, чем подписано.",
    "node-extra": "В журнале есть лишний узел дерева без записей.",
    "node-missing": "В журнале не хватает узла дерева: доказательства не проверятся.",
    "node-differs": "Узел дерева журнала изменён: доказательства не проверятся.",
    "leaf-invalid": "Запись журнала повреждена.",
    "leaf-moved": "Запись журнала перемещена или переставлена.",
    "column-differs": "Запись журнала изменена после записи.",
    "leaf-hash": "Отпечаток записи журнала не совпадает с её содержимым.",
    "inserted": "В журнал вставлены записи в обход подписи.",
    "head-differs": "Вершина дерева журнала не совпадает с пересчитанной.",
}

OBLIGATION_KINDS: dict[str, str] = {
    "stop_processing": "требование прекратить обработку",
    "access": "запрос сведений (ст. 14)",
    "rectification": "уточнение данных",
    "unlawful": "неправомерная обработка",
    "destruction_deferred": "отложенное уничтожение",
    "incident": "инцидент с персональными данными",
    "rkn_request": "запрос Роскомнадзора",
    "destruction": "уничтожение данных",
}

CLOCKS: dict[str, str] = {
    "answer": "ответ",
    "check": "проверка",
    "stop": "прекращение обработки",
    "destroy": "уничтожение данных",
    "rkn_notice": "уведомление Роскомнадзора",
    "results": "результаты расследования",
    "withdrawn": "уничтожение после отзыва согласия",
    "revoked": "уничтожение после прекращения согласия",
    "expired": "уничтожение по истечении срока",
    "dissemination_stop": "прекращение распространения",
}

POLICY_OBJECTS: dict[str, str] = {
    "session": "вход в Пропуск",
    "app_grant": "доступ приложений",
    "audit.proof": "доказательства журнала аудита",
    "audit.event": "записи журнала аудита",
    "policy": "правила доступа",
    "client": "приложения",
    "key": "ключи подписи",
    "organization": "организации",
    "school": "школа",
    "roster": "список школы",
    "status": "статусы",
    "person": "сведения о человеке",
    "person.data": "хранимые данные",
    "consent": "согласия",
    "consent.document": "документы согласий",
    "consent.request": "запросы согласий",
    "consent.template": "шаблоны согласий",
    "consent.feed": "лента отзывов",
    "consent.catalogue": "каталог данных и целей",
    "vault": "хранилище данных",
    "transfer": "передачи данных",
    "access_request": "запросы сведений",
    "obligation": "обращения по 152-ФЗ",
    "obligation.register": "реестр обязанностей",
    "obligation.register.all": "реестр обязанностей всех организаций",
    "biometric.enrolment": "образец лица",
    "exam.session": "экзамены",
    "exam.attempt": "попытки экзамена",
    "destruction": "уничтожение данных",
    "transfer.stats": "статистика передач",
    "metrics": "метрики работы сервиса",
}

POLICY_ACTIONS: dict[str, str] = {
    "read": "просмотр",
    "write": "изменение",
    "create": "создание",
    "delete": "удаление",
    "approve": "подписание",
    "refuse": "отказ",
    "withdraw": "отзыв",
    "revoke": "отзыв доступа",
    "explain": "объяснение решений",
    "rotate": "смена",
    "import": "загрузка",
    "decide": "решение",
    "take": "прохождение",
    "submit": "отправка",
    "ticket": "выдача разрешения",
    "redeem": "получение по разрешению",
    "publish": "публикация",
    "acknowledge": "подтверждение получения",
    "confirm": "подтверждение",
    "defer": "отсрочка",
}

POLICY_CONDITIONS: dict[str, str] = {
    "any": "без условий",
    "owner": "только свои",
    "guardian": "свои и своих детей",
    "same_school": "в своей школе",
    "same_org": "в своей организации",
    "proctor": "проктор этого экзамена",
    "taker": "участник этого экзамена",
}

POLICY_ROLES: dict[str, str] = {
    "operator": "приложение оператора",
    "supplier": "приложение поставщика",
    "authenticated": "любой вошедший",
    "anonymous": "любой посетитель",
}
