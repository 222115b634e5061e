"""An operator client's role link is stored, so ``policy explain`` answers for clients too."""

from __future__ import annotations

import uuid

from idp.oidc import clients
from policies.service import explain, subject_roles
from propusk.db import session_scope


def test_client_role_follows_create_bind_and_delete(runtime):
    org = uuid.uuid4()
    with session_scope(runtime.sessionmaker) as s:
        row, _ = clients.create_client(
            s,
            name="Региональный оператор",
            grant_types=["client_credentials"],
            role="operator",
            organization_id=org,
        )
        client_id = row.client_id
    subject = f"client:{client_id}"
    with session_scope(runtime.sessionmaker) as s:
        assert subject_roles(s, subject) == [
            {"role": "operator", "domain": f"org:{org}", "source": "status"}
        ]
        assert explain(s, subject, f"org:{org}", "consent.request", "create").allowed
        assert not explain(s, subject, f"org:{uuid.uuid4()}", "consent.request", "create").allowed

    other = uuid.uuid4()
    with session_scope(runtime.sessionmaker) as s:
        clients.bind_client(s, client_id, other, "supplier")
    with session_scope(runtime.sessionmaker) as s:
        assert [r["role"] for r in subject_roles(s, subject)] == ["supplier"]
        assert not explain(s, subject, f"org:{other}", "consent.request", "create").allowed

    with session_scope(runtime.sessionmaker) as s:
        clients.delete_client(s, client_id)
    with session_scope(runtime.sessionmaker) as s:
        assert subject_roles(s, subject) == []


def test_client_ids_start_alphanumeric():
    assert all(clients.new_client_id()[0].isalnum() for _ in range(2000))
