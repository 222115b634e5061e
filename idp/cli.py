"""CLI commands of the idp package: each sub-package registers its own groups."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Mount the idp command groups on the root CLI."""
    from idp.esia.cli import register as register_esia
    from idp.oidc.cli import register as register_oidc
    from idp.people_cli import register as register_people

    register_oidc(app)  # clients, keys
    register_esia(app)  # esia-sim
    register_people(app)  # people, schools, roster
