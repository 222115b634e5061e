"""Temporary re-exports for callers outside the package: ``policies.enforcer`` was split into
``policies.model``, ``policies.role_links``, ``policies.engine`` and ``policies.listener``."""

from policies.engine import (
    PolicyEngine,  # noqa: F401  (shim: removed by the integration pass)
    build_snapshot,  # noqa: F401  (shim: removed by the integration pass)
    load_snapshot,  # noqa: F401  (shim: removed by the integration pass)
)
from policies.model import (
    MODEL_PATH,  # noqa: F401  (shim: removed by the integration pass)
    PolicyEnforcer,  # noqa: F401  (shim: removed by the integration pass)
    RequestContext,  # noqa: F401  (shim: removed by the integration pass)
    condition_function,  # noqa: F401  (shim: removed by the integration pass)
    grant_function,  # noqa: F401  (shim: removed by the integration pass)
    read_file_policy,  # noqa: F401  (shim: removed by the integration pass)
)
