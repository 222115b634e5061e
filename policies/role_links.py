"""The role links (``g`` rows) of one enforcer, indexed for constant-time lookups.

Why not pycasbin's default domain role manager: it rebuilds a role manager per domain lazily
and scans lists, which costs seconds to load and milliseconds per cold lookup at 100,000 links.
Roles in Propusk are flat (a teacher is not a student), so a dict index subject -> domain ->
roles answers every question the matcher and the engine ask.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

from casbin.rbac import RoleManager


class FlatRoleManager(RoleManager):
    """Role links indexed subject -> domain -> roles; O(1) ``has_link``, no hierarchy.

    ``has_link(x, x)`` is true as in pycasbin's default manager.
    """

    def __init__(self) -> None:
        self._by_subject: dict[str, dict[str, tuple[str, ...]]] = {}
        self.size = 0

    def clear(self) -> None:
        self._by_subject = {}
        self.size = 0

    def add_link(self, name1: str, name2: str, *domain: str) -> None:
        dom = sys.intern(domain[0] if domain else "")
        doms = self._by_subject.setdefault(name1, {})
        roles = doms.get(dom, ())
        if name2 not in roles:
            doms[dom] = (*roles, sys.intern(name2))
            self.size += 1

    def delete_link(self, name1: str, name2: str, *domain: str) -> None:
        dom = domain[0] if domain else ""
        doms = self._by_subject.get(name1)
        if not doms or name2 not in doms.get(dom, ()):
            return
        remaining = tuple(r for r in doms[dom] if r != name2)
        self.size -= 1
        if remaining:
            doms[dom] = remaining
        else:
            del doms[dom]
            if not doms:
                del self._by_subject[name1]

    def has_link(self, name1: str, name2: str, *domain: str) -> bool:
        if name1 == name2:
            return True
        doms = self._by_subject.get(name1)
        if doms is None:
            return False
        return name2 in doms.get(domain[0] if domain else "", ())

    # get_roles, get_users and print_roles complete pycasbin's RoleManager interface

    def get_roles(self, name: str, *domain: str) -> list[str]:
        return list(self._by_subject.get(name, {}).get(domain[0] if domain else "", ()))

    def get_users(self, name: str, *domain: str) -> list[str]:
        dom = domain[0] if domain else ""
        return [s for s, doms in self._by_subject.items() if name in doms.get(dom, ())]

    def print_roles(self) -> None:  # pycasbin calls this after building links
        return None

    def domains_of(self, subject: str) -> list[str]:
        return list(self._by_subject.get(subject, {}))

    def set_subject(self, subject: str, links: Iterable[tuple[str, str]]) -> None:
        """Replace every link of one subject (role, domain)."""
        for dom, roles in list(self._by_subject.get(subject, {}).items()):
            for role in roles:
                self.delete_link(subject, role, dom)
        for role, dom in links:
            self.add_link(subject, role, dom)
