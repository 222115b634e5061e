"""The demo people the browser tests log in as (ESIA simulator accounts seeded by the demo)."""

from __future__ import annotations

PARENT = "1000400016"  # Смирнов Дмитрий; ESIA /kids: Смирнов Артём (7А)
DIRECTOR = "1000400001"  # chief of school No. 17 in ESIA /roles → school_admin
