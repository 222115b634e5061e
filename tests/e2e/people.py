"""The demo people the browser tests log in as (ESIA simulator accounts seeded by the demo)."""

from __future__ import annotations

PARENT = "1000400016"  # Смирнов Дмитрий; ESIA /kids: Смирнов Артём (7А)
DIRECTOR = "1000400001"  # chief of school No. 17 in ESIA /roles → school_admin
STUDENT = "1000400013"  # Волкова Полина, 14–17; her father (ESIA /kids) is STUDENT_FATHER
STUDENT_FATHER = "1000400024"  # Волков Виктор
ADULT_STUDENT = "1000400015"  # Соколова Екатерина, 18


def log_in(page, url: str, oid: str, path: str = "/cabinet") -> None:
    """Open ``path`` and log in as ``oid`` on the ESIA simulator's page (Propusk sends an
    anonymous visitor there); back on ``path`` when done."""
    page.goto(url + path)
    page.click(f'button[data-oid="{oid}"]')
    page.wait_for_url(url + path)
