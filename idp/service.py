"""Temporary re-exports of the identity services at their old path (issue 13).

The services now live in ``idp.identity``, ``idp.guardianship``, ``idp.schools``,
``idp.statuses``, ``idp.roster_matching``, ``idp.login`` and ``idp.claims``; callers outside
``idp``'s top-level modules still import these names from here until the integration pass.
"""

from idp.claims import claims_for  # noqa: F401  (shim: removed by the integration pass)
from idp.guardianship import (
    age_group,  # noqa: F401  (shim: removed by the integration pass)
    children_of,  # noqa: F401  (shim: removed by the integration pass)
    guardians_of,  # noqa: F401  (shim: removed by the integration pass)
    guardianship_children,  # noqa: F401  (shim: removed by the integration pass)
    guardianship_source,  # noqa: F401  (shim: removed by the integration pass)
    local_date,  # noqa: F401  (shim: removed by the integration pass)
    owner_resource,  # noqa: F401  (shim: removed by the integration pass)
)
from idp.identity import (
    create_person,  # noqa: F401  (shim: removed by the integration pass)
    full_name,  # noqa: F401  (shim: removed by the integration pass)
    get_person,  # noqa: F401  (shim: removed by the integration pass)
    get_person_by_oid,  # noqa: F401  (shim: removed by the integration pass)
)
from idp.login import on_login  # noqa: F401  (shim: removed by the integration pass)
from idp.schools import (
    find_school,  # noqa: F401  (shim: removed by the integration pass)
    get_organization,  # noqa: F401  (shim: removed by the integration pass)
    register_operator_org,  # noqa: F401  (shim: removed by the integration pass)
    register_school,  # noqa: F401  (shim: removed by the integration pass)
)
from idp.statuses import (
    active_statuses,  # noqa: F401  (shim: removed by the integration pass)
    appoint_proctor,  # noqa: F401  (shim: removed by the integration pass)
    grant_platform_admin,  # noqa: F401  (shim: removed by the integration pass)
    grant_status,  # noqa: F401  (shim: removed by the integration pass)
    role_grants,  # noqa: F401  (shim: removed by the integration pass)
    school_statuses,  # noqa: F401  (shim: removed by the integration pass)
)
