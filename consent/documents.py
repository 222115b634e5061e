"""The signed consent document: what the person reads is what they sign.

Before a signature the signing page shows the consent as a document in Russian with every
element of 152-FZ art. 9 part 4: the subject and, for a minor, the representative with the
basis of representation; the operator (name, ИНН, ОГРН, address); the processor; the purpose;
the data (the catalogue's Russian titles); the actions and methods; the term; how to withdraw;
and the template's full text. The document is one canonical text (``ConsentDocument.text``);
its SHA-256 travels in the signing form, is checked again when the signature arrives (a
document that changed in between — new name from ESIA, another template — is refused, not
signed) and goes into the ledger event, the signature entry and the receipt.

The PDF (fpdf2, DejaVu fonts for Cyrillic) is that text plus the signature block: who signed,
how they authenticated (ESIA method, time, assurance level), when, and the document hash. It is
generated once at signing, stored encrypted (AES-GCM under the KEK, bound to its row) and its
own SHA-256 is recorded too, so a PDF handed to anyone can be checked on the public verification
page.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path

from fpdf import FPDF
from sqlalchemy.orm import Session

from consent import catalogue, deadlines, parties, wording
from consent import repository as repo
from consent.models import Consent, SignedDocument
from idp import guardianship, identity
from propusk import crypto
from propusk.errors import Conflict, NotFound
from propusk.security import AuthContext
from propusk.settings import Settings

METHODS_RU = {
    "automated": "автоматизированная обработка",
    "non_automated": "неавтоматизированная обработка",
    "mixed": "смешанная обработка",
}
ROLE_RU = {"subject": "субъект персональных данных", "guardian": "законный представитель"}
BASIS_RU = {
    "esia": "родитель (законный представитель) ребёнка по сведениям ЕСИА о детях",
    "roster": "законный представитель по сведениям образовательной организации",
}
ACR_RU = {
    "urn:propusk:acr:esia:confirmed": "вход через Госуслуги, подтверждённая учётная запись",
    "urn:propusk:acr:esia": "вход через Госуслуги, учётная запись не подтверждена",
    "urn:propusk:acr:dev": "тестовый вход (режим разработки)",
}


@dataclass(frozen=True)
class Section:
    title: str
    lines: tuple[str, ...]


@dataclass(frozen=True)
class ConsentDocument:
    """The document one signer is shown and signs (canonical ``text``, its ``sha256``)."""

    consent_id: uuid.UUID
    signer_id: uuid.UUID
    role: str
    heading: str
    sections: tuple[Section, ...]
    text: str
    sha256: str


def _date(value) -> str:
    return value.strftime("%d.%m.%Y") if value else "не указана"


def _local(at: datetime) -> str:
    return at.astimezone(deadlines.MOSCOW).strftime("%d.%m.%Y %H:%M:%S (МСК)")


def local_time(at: datetime | str | None) -> str:
    """A time as people here read it: Moscow, ``ДД.ММ.ГГГГ ЧЧ:ММ (МСК)`` (``consent.wording``'s
    one formatter, in the documents' way of writing the zone)."""
    return wording.moscow_time(at, mark="(МСК)")


def days_ru(n: int) -> str:
    """«1 день», «3 дня», «365 дней»."""
    if n % 10 == 1 and n % 100 != 11:
        word = "день"
    elif 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        word = "дня"
    else:
        word = "дней"
    return f"{n} {word}"


def _heading(purpose, categories) -> str:
    if purpose is not None and purpose.dissemination:
        return "Согласие на обработку персональных данных, разрешённых для распространения"
    if any(c.biometric for c in categories):
        return "Согласие на обработку биометрических персональных данных"
    if any(c.special for c in categories):
        return "Согласие на обработку специальных категорий персональных данных"
    return "Согласие на обработку персональных данных"


def _person_lines(person, signer: bool) -> tuple[str, ...]:
    """Who a person is; for the signer, also whether ESIA vouched for the account (it decides
    the written form)."""
    account = f"Учётная запись ЕСИА: {person.esia_oid}"
    if signer:
        account += " (подтверждённая)" if person.trusted else " (не подтверждённая)"
    return (
        f"ФИО: {identity.full_name(person)}",
        f"Дата рождения: {_date(person.birth_date)}",
        account,
    )


COUNTRIES_RU = {"RU": "Россия"}


def prepare(session: Session, consent: Consent, signer_id: uuid.UUID, role: str) -> ConsentDocument:
    """The document ``signer_id`` (acting as ``role``) signs for ``consent`` as it stands."""
    template = repo.get_template(session, consent.template_id)
    operator = parties.get(session, consent.operator_id)
    subject = identity.get_person(session, consent.subject_id)
    signer = identity.get_person(session, signer_id)
    if template is None or operator is None or subject is None or signer is None:
        raise NotFound("the consent's parties are incomplete", type="unknown-consent")
    purpose = catalogue.purpose(session, consent.purpose_key)
    known = catalogue.categories(session, consent.categories)
    cats = [known[k] for k in consent.categories if k in known]
    sections = [Section("Субъект персональных данных", _person_lines(subject, role == "subject"))]
    if role == "guardian":
        basis = BASIS_RU.get(
            guardianship.guardianship_source(session, signer_id, subject.id) or "", ""
        )
        sections.append(
            Section(
                "Законный представитель субъекта",
                (
                    *_person_lines(signer, True),
                    f"Основание полномочий: {basis or 'законный представитель'}",
                ),
            )
        )
    sections.append(
        Section(
            "Оператор (получатель персональных данных)",
            (
                f"Наименование: {operator.name}",
                f"ИНН: {operator.inn}, ОГРН: {operator.ogrn}",
                f"Адрес: {operator.address}",
                f"Хранение данных: {operator.storage_location}, "
                f"{COUNTRIES_RU.get(operator.storage_country, operator.storage_country)}",
            ),
        )
    )
    if consent.supplier_id is not None:
        supplier = parties.get(session, consent.supplier_id)
        if supplier is not None:
            sections.append(
                Section(
                    "Поставщик данных",
                    (f"{supplier.name}, ИНН {supplier.inn}, ОГРН {supplier.ogrn}",),
                )
            )
    if template.processor:
        sections.append(Section("Лицо, обрабатывающее данные по поручению", (template.processor,)))
    sections += [
        Section("Цель обработки", (purpose.title if purpose else consent.purpose_key,)),
        Section("Перечень персональных данных", tuple(c.title for c in cats)),
        Section("Действия с персональными данными", (", ".join(consent.actions),)),
        Section(
            "Способы обработки",
            (", ".join(METHODS_RU.get(m, m) for m in template.processing_methods),),
        ),
        Section(
            "Срок действия согласия",
            (f"{days_ru(template.term_days)} со дня, когда согласие дано полностью",),
        ),
        Section("Порядок отзыва согласия", (template.withdrawal_method,)),
    ]
    if template.conditions:
        sections.append(Section("Условия и запреты распространения", (template.conditions,)))
    sections.append(
        Section(
            "Текст согласия",
            (*template.text.splitlines(), f"(версия шаблона {template.version})"),
        )
    )
    heading = _heading(purpose, cats)
    text = _canonical(consent.id, heading, sections, signer_id, role)
    return ConsentDocument(
        consent_id=consent.id,
        signer_id=signer_id,
        role=role,
        heading=heading,
        sections=tuple(sections),
        text=text,
        sha256=hashlib.sha256(text.encode()).hexdigest(),
    )


def _canonical(consent_id, heading, sections, signer_id, role) -> str:
    out = [heading, f"Согласие № {consent_id}", f"Подписывает: {ROLE_RU.get(role, role)}", ""]
    for i, section in enumerate(sections, 1):
        out.append(f"{i}. {section.title}")
        out += [f"   {line}" for line in section.lines]
    out.append(f"Подписант: {signer_id}")
    return "\n".join(out) + "\n"


def check_shown(document: ConsentDocument, shown_sha256: str | None) -> None:
    """The person signs what they were shown: the hash the page carried must be this one."""
    if not shown_sha256 or shown_sha256 != document.sha256:
        raise Conflict(
            "the document changed since it was shown; read it again before signing",
            type="document-changed",
            document_sha256=document.sha256,
        )


@dataclass(frozen=True)
class SignatureBlock:
    """What the PDF says about the act of signing."""

    signer_name: str
    role: str
    signed_at: datetime
    auth: AuthContext
    verify_url: str | None = None


METHOD_RU = {
    "pwd": "логин и пароль",
    "sms": "пароль и код из СМС",
    "dev": "тестовый вход",
    "ds": "электронная подпись",
    "cep": "электронная подпись",
}


def method_text(method: str) -> str:
    """``esia:pwd`` as people read it: «Госуслуги (ЕСИА), логин и пароль»."""
    upstream, _, how = method.partition(":")
    where = "Госуслуги (ЕСИА)" if upstream == "esia" else "тестовый вход"
    return f"{where}, {METHOD_RU.get(how.lower(), how)}" if how else where


def signature_lines(block: SignatureBlock, document: ConsentDocument) -> list[str]:
    lines = [
        "Подписано простой электронной подписью (вход через ЕСИА)",
        f"Подписант: {block.signer_name} — {ROLE_RU.get(block.role, block.role)}",
        f"Дата и время подписания: {_local(block.signed_at)}",
        f"Аутентификация: {ACR_RU.get(block.auth.acr or '', method_text(block.auth.method))}",
        f"Способ входа: {method_text(block.auth.method)}, "
        f"время входа: {_local(block.auth.auth_time)}",
        f"SHA-256 документа: {document.sha256}",
    ]
    if block.verify_url:
        lines.append(f"Проверить подлинность этого документа: {block.verify_url}")
    return lines


def render_pdf(document: ConsentDocument, block: SignatureBlock, font_dir: Path) -> bytes:
    """The PDF of a signed document (A4, DejaVu Sans)."""
    pdf = FPDF(format="A4")
    pdf.set_title(document.heading)
    pdf.set_subject(f"Согласие № {document.consent_id}; SHA-256 документа {document.sha256}")
    pdf.set_creator("Пропуск")
    pdf.set_creation_date(block.signed_at)
    regular, bold = _fonts(str(font_dir))
    pdf.add_font("DejaVu", "", regular)
    pdf.add_font("DejaVu", "B", bold)
    pdf.set_auto_page_break(auto=True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, document.heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    pdf.multi_cell(0, 5, f"Согласие № {document.consent_id}", new_x="LMARGIN", new_y="NEXT")
    for i, section in enumerate(document.sections, 1):
        pdf.ln(2)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 6, f"{i}. {section.title}", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 10)
        for line in section.lines:
            pdf.multi_cell(0, 5, line or " ", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, "Подпись", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9)
    for line in signature_lines(block, document):
        pdf.multi_cell(0, 5, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


@lru_cache(maxsize=4)
def _fonts(font_dir: str) -> tuple[str, str]:
    base = Path(font_dir)
    regular, bold = base / "DejaVuSans.ttf", base / "DejaVuSans-Bold.ttf"
    if not regular.exists() or not bold.exists():
        raise RuntimeError(
            f"DejaVu fonts not found in {base} (Debian package fonts-dejavu-core; "
            "setting PROPUSK_PDF_FONT_DIR)"
        )
    return str(regular), str(bold)


def _aad(row_id: uuid.UUID, consent_id: uuid.UUID) -> bytes:
    return f"consent-document:{row_id}:{consent_id}".encode()


def store(
    session: Session,
    settings: Settings,
    document: ConsentDocument,
    pdf: bytes,
    *,
    row_id: uuid.UUID,
    now: datetime,
) -> SignedDocument:
    """Keep the signed PDF, encrypted and bound to its row and consent."""
    row = SignedDocument(
        id=row_id,
        consent_id=document.consent_id,
        signer_id=document.signer_id,
        role=document.role,
        document_sha256=document.sha256,
        pdf_sha256=digest(pdf),
        pdf_enc=crypto.encrypt(settings.kek_bytes, pdf, _aad(row_id, document.consent_id)),
        created_at=now,
    )
    repo.add(session, row)
    return row


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def pdf_of(settings: Settings, row: SignedDocument) -> bytes:
    return crypto.decrypt(settings.kek_bytes, row.pdf_enc, _aad(row.id, row.consent_id))
