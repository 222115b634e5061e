"""Russian phrases for the machine codes that answers carry besides a problem type.

Phrases, not sentences: lower case, no final full stop, so a page can put one after a colon
(«Передача отклонена: согласие отозвано») or make a sentence of it (``propusk.messages.sentence``).

* ``REASONS`` — the transfer gate's refusal reasons (``consent.gate``: a decision's
  ``refused`` maps each category to one).
* ``OAUTH`` — OAuth 2.0 / OpenID Connect error codes (RFC 6749 §4.1.2.1, §5.2; RFC 6750 §3.1;
  OIDC Core §3.1.2.6) the authorization pages and the endpoints answer with.
* ``CHECKS`` — biometric results and reasons the exam and enrolment answers carry: frame
  results and flags (``biometrics.proctoring``), liveness reasons (``biometrics.liveness``),
  photo quality reasons (``biometrics.quality``), upload rejections (``biometrics.engine``) and
  why a taker is on the manual path (``biometrics.checks``).
"""

from __future__ import annotations

REASONS: dict[str, str] = {
    "operator_unknown": "оператор не зарегистрирован в Пропуске",
    "operator_storage_foreign": "оператор хранит персональные данные за пределами России",
    "cross_border_not_notified": (
        "оператор не уведомил Роскомнадзор о трансграничной передаче данных"
    ),
    "unknown_category": "категория не входит в перечень данных",
    "no_consent": "нет согласия на эти данные",
    "category_not_covered": "согласие не распространяется на эти данные",
    "consent_pending": "согласие ещё не подписано",
    "consent_refused": "в согласии отказано",
    "consent_withdrawn": "согласие отозвано",
    "consent_revoked": "оператор отозвал свой запрос согласия",
    "consent_suspended": "обработка приостановлена по требованию участника",
    "consent_expired": "срок действия согласия истёк",
    "consent_not_yet_valid": "согласие ещё не вступило в силу",
    "transfer_not_permitted": "согласие не разрешает передавать эти данные",
    "written_form_required": "на эти данные нужно согласие в письменной форме",
    "representative_authority_ended": (
        "полномочия законного представителя закончились: участнику исполнилось 18 лет"
    ),
    "processing_blocked": "данные заблокированы на время проверки обращения участника",
    "supplier_not_named": "согласие дано другому поставщику данных",
}

OAUTH: dict[str, str] = {
    "invalid_request": "в запросе не хватает параметров или они неверны",
    "invalid_client": "приложение не зарегистрировано в Пропуске",
    "invalid_grant": "код входа или разрешение недействительны либо уже использованы",
    "unauthorized_client": "приложению не разрешён такой вход",
    "unsupported_grant_type": "приложение просит неподдерживаемый способ получить доступ",
    "unsupported_response_type": "приложение просит неподдерживаемый тип ответа",
    "invalid_scope": "приложение просит сведения, которые ему не разрешены",
    "access_denied": "доступ не предоставлен",
    "server_error": "в Пропуске произошла ошибка",
    "temporarily_unavailable": "Пропуск временно недоступен, попробуйте позже",
    "login_required": "нужно войти в Пропуск",
    "consent_required": "нужно ваше разрешение приложению",
    "interaction_required": "нужно ваше участие: войдите и подтвердите вход",
    "account_selection_required": "нужно выбрать учётную запись",
    "invalid_request_uri": "ссылка на запрос входа недействительна",
    "invalid_request_object": "запрос входа составлен неверно",
    "request_not_supported": "Пропуск не принимает запрос входа в таком виде",
    "request_uri_not_supported": "Пропуск не принимает ссылку на запрос входа",
    "registration_not_supported": "Пропуск не регистрирует приложения таким способом",
    "invalid_token": "разрешение приложения недействительно или истекло",
    "insufficient_scope": "приложению не хватает разрешений",
}

CHECKS: dict[str, str] = {
    # a frame's result during the exam (and the proctor's flags, named by the result)
    "match": "лицо совпадает с шаблоном",
    "mismatch": "лицо не совпадает с шаблоном",
    "no_face": "лицо не видно в кадре",
    "several_faces": "в кадре несколько лиц",
    # the liveness check
    "too_few_frames": "камера передала слишком мало кадров",
    "actions_not_performed": "не видно, что вы выполнили все действия: моргнуть и повернуть голову",
    "replayed_frames": "кадры повторяются — камера не передаёт живое изображение",
    "flat_picture": (
        "изображение плоское — похоже на фотографию или экран, а не на живое лицо: "
        "повернитесь перед камерой сами"
    ),
    # the liveness challenge's actions, as the taker's page shows them
    "look_straight": "смотрите прямо в камеру",
    "blink": "моргните",
    "turn_left": "поверните голову влево",
    "turn_right": "поверните голову вправо",
    # an enrolment photo (from the camera or a file: the hint fits both)
    "face_too_small": "лицо слишком маленькое: снимите ближе, чтобы лицо было крупным",
    "too_dark": "лицо слишком тёмное: повернитесь лицом к окну или лампе",
    "too_bright": "лицо пересвечено: уйдите от яркого света, не стойте под лампой",
    "blurred": "снимок размыт: не двигайтесь во время снимка, протрите объектив",
    # an upload that is not a usable image
    "empty": "файл пустой",
    "too_large": "файл слишком большой",
    "unsupported_format": "такой формат не принимается: нужен снимок JPEG, PNG или WEBP",
    "too_many_pixels": "у снимка слишком большое разрешение",
    "not_an_image": "файл не является изображением",
    # why a taker is checked by document
    "no_biometric_consent": "нет согласия на обработку биометрических данных",
    "not_enrolled": "нет биометрического шаблона",
    "not_started": "участник ещё не начинал",
    # why exam frames kept as evidence were destroyed (the audit record)
    "retention_expired": "срок хранения кадров истёк",
}
