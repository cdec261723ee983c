"""居民身份证号码 (GB 11643-1999, 公民身份号码): 18 characters — a 6-digit address code, the birth date YYYYMMDD, a
3-digit sequence and a check character computed with ISO 7064 MOD 11-2 ('X' stands for 10). Pure: no I/O."""
from __future__ import annotations

import re
from datetime import date

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
EARLIEST = date(1900, 1, 1)


def check_character(first17: str) -> str:
    """The check character of the first 17 digits (MOD 11-2)."""
    return CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS, strict=True)) % 11]


def normalise(number: str) -> str:
    """Spaces removed, a lowercase x read as X."""
    return "".join(str(number or "").split()).upper()


def problem(number: str, today: date) -> str | None:
    """Why `number` is not a valid 居民身份证号码 (Chinese), or None."""
    value = normalise(number)
    if not value:
        return "请填写居民身份证号码"
    if len(value) != 18:
        return "居民身份证号码应为18位"
    if not SHAPE.match(value):
        return "居民身份证号码前17位应为数字，最后一位为数字或X"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "居民身份证号码中的出生日期无效"
    if born < EARLIEST or born > today:
        return "居民身份证号码中的出生日期无效"
    if check_character(value[:17]) != value[17]:
        return "居民身份证号码校验码不正确，请核对"
    return None


def mask(number: str) -> str:
    """For any log or listing: the first 6 and the last 2 characters (150102**********1X)."""
    value = normalise(number)
    return value[:6] + "*" * 10 + value[-2:] if len(value) >= 8 else "*" * len(value)


def mask_name(name: str) -> str:
    """张三 → 张*, 欧阳娜娜 → 欧* (the first character and one star, whatever the length)."""
    name = (name or "").strip()
    return name[:1] + "*" if name else ""
