"""The layout stays readable: no project module past the size where it does several jobs.

A module over ~600 lines (migrations and tests aside) is split by responsibility (AGENTS.md,
"Layering"); the import contracts are ``lint-imports``' (pyproject.toml), run by ``make test``.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[2]
PACKAGES = ("audit", "policies", "idp", "consent", "biometrics", "propusk", "bench")
MAX_LINES = 600


def test_no_project_module_over_600_lines():
    sizes = {
        str(path.relative_to(ROOT)): len(path.read_text(encoding="utf-8").splitlines())
        for package in PACKAGES
        for path in (ROOT / package).rglob("*.py")
        if "peer" not in path.parts
    }
    assert len(sizes) > 100  # the walk found the packages
    too_long = {name: n for name, n in sizes.items() if n > MAX_LINES}
    assert too_long == {}
