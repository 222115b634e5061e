"""The readable receipt page ``/consents/{id}/receipt``: only the person or their current
representative, in Propusk's own pages. Refused first: someone else, a former guardian of a
child now of age, an operator, a relying party holding the person's own token (which the JSON
receipt route serves: the page shows the signers and their documents); then what the person
sees."""

from __future__ import annotations

import uuid

import pytest

from tests.support.consent_world import World, years_ago
from tests.support.page_text import machine_words, visible_text


@pytest.fixture
def world(harness) -> World:
    """An operator with a Russian name (what a person reads on the receipt) and its template."""
    op = harness.organization("operator", name="ГБУ «Центр оценки качества образования»")
    op_h = harness.org_client(op["id"], "operator")
    return World(harness, op, op_h, {}, {}, harness.template(op_h))


def _given(world: World, signer: uuid.UUID, subject: uuid.UUID) -> str:
    c = world.h.request(world.op_h, world.tpl["id"], subject)
    assert world.h.act(signer, c["id"], "approve")["state"] == "given"
    return c["id"]


def test_the_receipt_page_is_refused_to_anyone_but_the_person_in_their_pages(world: World):
    h = world.h
    adult, _ = h.person(years_ago(30))
    cid = _given(world, adult, adult)
    page = f"/consents/{cid}/receipt"

    stranger, _ = h.person(years_ago(40))
    r = h.client.get(page, headers=h.person_headers(stranger))
    assert r.status_code == 403 and "<pre" not in r.text
    assert "Вы не можете" in visible_text(r.text)

    parent, (grown,) = h.person(years_ago(50), children=(years_ago(19),))
    grown_cid = _given(world, grown, grown)
    r = h.client.get(f"/consents/{grown_cid}/receipt", headers=h.person_headers(parent))
    assert r.status_code == 403 and "<pre" not in r.text
    assert "исполнилось 18 лет" in visible_text(r.text)

    r = h.client.get(page, headers=world.op_h)  # the operator's client token
    assert r.status_code == 403 and "<pre" not in r.text

    rp = h.relying_party(adult, {"consents.read"})
    assert h.client.get(f"/api/v1/consents/{cid}/receipt", headers=rp).status_code == 200
    r = h.client.get(page, headers=rp)
    assert r.status_code == 403 and "<pre" not in r.text
    assert "только в личном кабинете Пропуска" in visible_text(r.text)

    r = h.client.get(page, follow_redirects=False)  # nobody logged in: the login first
    assert r.status_code == 302 and r.headers["location"].startswith("/login?next=")

    unknown = h.client.get(f"/consents/{uuid.uuid4()}/receipt", headers=h.person_headers(adult))
    assert unknown.status_code == 404 and "Согласие не найдено" in visible_text(unknown.text)


def test_the_person_and_a_parent_read_the_receipt(world: World):
    h = world.h
    adult, _ = h.person(years_ago(30))
    cid = _given(world, adult, adult)
    r = h.client.get(f"/consents/{cid}/receipt", headers=h.person_headers(adult))
    assert r.status_code == 200
    text = visible_text(r.text)
    assert machine_words(text) == [], machine_words(text)
    for element in (
        "Квитанция о согласии",
        "Подпись квитанции проверена",
        "Петрова Анна Сергеевна — участник",
        world.op["name"],
        "Проведение онлайн-аттестации по курсам ЦОС",
        "Фамилия, имя, отчество",
        "Оценки",
        "Состояние сейчас действует",
    ):
        assert element in text, element
    assert 'class="jws hash"' in r.text
    assert r.headers["content-security-policy"].startswith("default-src 'self'")
    assert "<script>" not in r.text and "style=" not in r.text

    parent, (child,) = h.person(years_ago(40), children=(years_ago(9),))
    child_cid = _given(world, parent, child)
    for who in (parent, child):  # a child under 14 sees what concerns them
        r = h.client.get(f"/consents/{child_cid}/receipt", headers=h.person_headers(who))
        assert r.status_code == 200, who
        text = visible_text(r.text)
        assert "— законный представитель" in text and machine_words(text) == []
