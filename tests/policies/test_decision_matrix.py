"""Every row of the decision matrix in docs/access-matrix.md, for every role, against the
default policy: once with the roles carried by the principal (implicit links resolved by idp),
once with the same roles stored as ``g`` links in the enforcer (synced from statuses)."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from policies.engine import PolicyEngine, build_snapshot
from policies.model import read_file_policy
from policies.service import decide
from propusk.security import Principal
from tests.policies.world import ROLE_COLUMNS, World, make_world, read_table

ROWS = read_table("decision-matrix")


def scenario(name: str, world: World, caller: Principal) -> tuple[str, dict[str, Any] | None]:
    """(request domain, resource) of a scenario named in the table."""
    me = caller.subject
    stranger = f"person:{uuid.uuid4()}"
    other_parent = f"person:{uuid.uuid4()}"
    table: dict[str, tuple[str, dict[str, Any] | None]] = {
        "-": ("*", None),
        "@A": (world.school_a, None),
        "@B": (world.school_b, None),
        "@X": (world.org_x, None),
        "@Y": (world.org_y, None),
        "own": ("*", {"subject": me, "guardians": []}),
        "child": ("*", {"subject": stranger, "guardians": [me]}),
        "other": ("*", {"subject": stranger, "guardians": [other_parent]}),
        "stud A": ("*", {"subject": stranger, "guardians": [], "schools": [world.school_a]}),
        "stud B": ("*", {"subject": stranger, "guardians": [], "schools": [world.school_b]}),
        "req X": ("*", {"organization": world.org_x}),
        "req Y": ("*", {"organization": world.org_y}),
        "sess mine": (world.school_a, {"proctors": [me], "schools": [world.school_a]}),
        "sess other": (world.school_a, {"proctors": [stranger], "schools": [world.school_a]}),
        "taker": (world.school_a, {"takers": [me], "proctors": [stranger]}),
        "non-taker": (world.school_a, {"takers": [stranger], "proctors": [stranger]}),
    }
    return table[name]


def _cases():
    for row in ROWS:
        for column in ROLE_COLUMNS:
            label = f"{row['object']}:{row['action']}[{row['scenario']}]-{column}"
            yield pytest.param(row, column, id=label)


def _engine(world: World, as_links: bool) -> tuple[PolicyEngine, World]:
    if not as_links:
        snap = build_snapshot(read_file_policy(), [], [], (0, 0))
        return PolicyEngine(None, snapshot=snap), world
    # The same callers, their roles moved from the principal into the enforcer's g links.
    links = [(p.subject, g.role, g.domain) for p in world.callers.values() for g in p.roles]
    stripped = {
        k: Principal(
            kind=p.kind,
            subject=p.subject,
            person_id=p.person_id,
            client_id=p.client_id,
            organization_id=p.organization_id,
            channel=p.channel,
        )
        for k, p in world.callers.items()
    }
    snap = build_snapshot(read_file_policy(), [], links, (0, 0))
    return PolicyEngine(None, snapshot=snap), World(
        world.school_a, world.school_b, world.org_x, world.org_y, stripped
    )


WORLD = make_world()
ENGINES = {mode: _engine(WORLD, mode == "links") for mode in ("grants", "links")}


@pytest.mark.parametrize("mode", ["grants", "links"])
@pytest.mark.parametrize(("row", "column"), list(_cases()))
def test_decision_matrix(row: dict[str, str], column: str, mode: str) -> None:
    engine, world = ENGINES[mode]
    caller = world.caller(column)
    domain, resource = scenario(row["scenario"], world, caller)
    decision = decide(
        caller, row["object"], row["action"], domain=domain, resource=resource, engine=engine
    )
    expected = row[column] == "Y"
    assert decision.allowed is expected, decision.as_dict()


def test_matrix_covers_the_whole_vocabulary() -> None:
    """Every (object, action) of the default policy appears in the documented matrix."""
    documented = {(r["object"], r["action"]) for r in ROWS}
    in_policy = {(obj, act) for _, _, obj, act, _ in read_file_policy()}
    assert in_policy - documented == set()


def test_matrix_cells_are_valid() -> None:
    for row in ROWS:
        assert {row[c] for c in ROLE_COLUMNS} <= {"Y", "."}, row
