"""The platform console's names (``propusk.messages.admin``) cover every code the console shows:
each object, action, condition and role of the access rules (``policies/policy.csv``, so a rule
added by review with a new word fails here until it is named), each obligation kind and each
finding of ``audit verify`` — in Russian, reaching the pages through ``GET /api/v1/messages``."""

from __future__ import annotations

from audit.verify import CODES
from consent.models import OBLIGATION_KINDS
from policies.model import read_file_policy
from propusk import messages
from propusk.messages import admin, names
from tests.propusk.test_messages import _check_russian


def test_every_word_of_the_rules_has_a_russian_name():
    rows = list(read_file_policy())
    assert len(rows) > 50
    roles = set(names.ROLES) | set(admin.POLICY_ROLES)
    assert {r[0] for r in rows} <= roles, {r[0] for r in rows} - roles
    assert {r[2] for r in rows} <= set(admin.POLICY_OBJECTS)
    assert {r[3] for r in rows} <= set(admin.POLICY_ACTIONS)
    assert {r[4] for r in rows} <= set(admin.POLICY_CONDITIONS)


def test_every_obligation_kind_and_verify_finding_has_a_russian_name():
    assert set(OBLIGATION_KINDS) | {"destruction"} == set(admin.OBLIGATION_KINDS)
    assert set(CODES) == set(admin.VERIFY)


def test_the_names_are_russian_and_reach_the_pages():
    sections = messages.catalogue().admin
    for section, texts in sections.items():
        _check_russian(f"admin.{section}", texts)
    assert sections["policy_objects"] == admin.POLICY_OBJECTS
    assert sections["verify"]["column-differs"] == admin.VERIFY["column-differs"]
