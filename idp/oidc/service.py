"""Former home of idp.oidc's business rules, split by responsibility (issue 13).

Clients: ``idp.oidc.clients``; login transactions and sessions: ``idp.oidc.logins``; grants and
issued tokens: ``idp.oidc.token_store``. Only the names other packages still import from here
remain, as re-exports.
"""

from idp.oidc.clients import (
    bind_client,  # noqa: F401  (shim: removed by the integration pass)
    create_client,  # noqa: F401  (shim: removed by the integration pass)
    delete_client,  # noqa: F401  (shim: removed by the integration pass)
    return_uri_allowed,  # noqa: F401  (shim: removed by the integration pass)
)
from idp.oidc.token_store import (
    ClientToken,  # noqa: F401  (shim: removed by the integration pass)
    refused_client_tokens,  # noqa: F401  (shim: removed by the integration pass)
)
