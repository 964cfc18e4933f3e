"""Personal data in free text: mainland mobile numbers, landlines and resident ID numbers,
masked wherever text leaves the roles that need it (residents' pages, exports, logs)."""

from __future__ import annotations

import re

PERSONAL = re.compile(r"(?<!\d)(?:1[3-9]\d{9}|\d{17}[\dXx]|0\d{2,3}-?\d{7,8})(?!\d)")


def mask_personal(text: str) -> str:
    """`text` with phone and ID numbers masked, their first three and last two digits kept."""
    return PERSONAL.sub(lambda m: m.group()[:3] + "*" * (len(m.group()) - 5) + m.group()[-2:],
                        text)  # fmt: skip
