"""Moved: the consent rules live in modules by responsibility; re-exports for outside callers."""

from consent.access import (
    access_answer,  # noqa: F401  (shim: removed by the integration pass)
    access_request_for_person,  # noqa: F401  (shim: removed by the integration pass)
    create_access_request,  # noqa: F401  (shim: removed by the integration pass)
)
from consent.catalogue import load_catalogue  # noqa: F401  (shim: removed by the integration pass)
from consent.destruction import confirm_destruction  # noqa: F401  (shim: removed by the integration pass)
from consent.gate import has_active_consent  # noqa: F401  (shim: removed by the integration pass)
from consent.ledger import (
    feed,  # noqa: F401  (shim: removed by the integration pass)
    receipt_event,  # noqa: F401  (shim: removed by the integration pass)
)
from consent.lifecycle import (
    approve,  # noqa: F401  (shim: removed by the integration pass)
    create_request,  # noqa: F401  (shim: removed by the integration pass)
    list_consents,  # noqa: F401  (shim: removed by the integration pass)
    on_withdrawal,  # noqa: F401  (shim: removed by the integration pass)
    revoke,  # noqa: F401  (shim: removed by the integration pass)
    suspend,  # noqa: F401  (shim: removed by the integration pass)
    withdraw,  # noqa: F401  (shim: removed by the integration pass)
)
from consent.parties import (
    organization_of,  # noqa: F401  (shim: removed by the integration pass)
    register_organization,  # noqa: F401  (shim: removed by the integration pass)
)
from consent.representation import (
    consent_for_person,  # noqa: F401  (shim: removed by the integration pass)
    subjects_for,  # noqa: F401  (shim: removed by the integration pass)
)
from consent.signatures import (
    required_roles,  # noqa: F401  (shim: removed by the integration pass)
    signed_as_written,  # noqa: F401  (shim: removed by the integration pass)
)
from consent.templates import publish_template  # noqa: F401  (shim: removed by the integration pass)
