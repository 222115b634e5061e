"""``--dist loadgroup`` made to work again under pytest 9: pytest-xdist 3.8 marks a test's group
by suffixing ``item._nodeid`` with ``@<group>``, but pytest 9 reads ``nodeid`` from ``item._id``,
so the suffix was lost and every ``xdist_group`` spread its tests over both workers — module
fixtures (demo sites, server processes) were built twice and walks that build on each other ran
apart. This plugin, run after xdist's own hook, carries the suffix into ``_id``.
"""

from __future__ import annotations

import pytest
from _pytest.nodeid import coerce_node_id


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        grouped = getattr(item, "_nodeid", None)
        if isinstance(grouped, str) and "@" in grouped and item.nodeid != grouped:
            item._id = coerce_node_id(grouped)
