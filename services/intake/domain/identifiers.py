"""Identifiers and dates of a mine's licences: pure functions, no I/O.

* 统一社会信用代码 (GB 32100-2015): 18 characters from a 31-character set, the last one a weighted mod-31 check
  character over the first 17.
* 采矿许可证证号: ``C`` + 22 digits (the permanent number given by the national 矿业权统一配号 system; 23 characters
  in all, as fixed again by 《矿业权登记信息管理办法》, 自然资办发〔2020〕32号).
* 安全生产许可证编号: free text such as ``（蒙）FM安许证字〔2023〕0001号``: non-empty, length-limited.
* Validity periods: ``valid_from <= valid_to``; "expired" is always relative to a ``today`` passed in.

Every ``check_*`` function returns ``(normalised_value, problems)`` where ``problems`` is a list of Chinese reasons
(empty when valid), so callers can name the field themselves.  Input is normalised first (NFKC folds full-width
characters typed with a Chinese input method, whitespace is removed, letters are upper-cased) because the
intake form must be forgiving about how a correct value is typed, and exact about whether it is correct.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime

from shared import text as texts
from shared.periods import add_years

__all__ = [
    "CREDIT_CODE_CHARSET",
    "CREDIT_CODE_WEIGHTS",
    "credit_code_check_char",
    "normalise_credit_code",
    "check_credit_code",
    "is_valid_credit_code",
    "normalise_mining_licence_number",
    "check_mining_licence_number",
    "is_valid_mining_licence_number",
    "SAFETY_LICENCE_MAX_LENGTH",
    "check_safety_licence_number",
    "parse_date",
    "ValidityPeriod",
    "add_years",
]

# ---------------------------------------------------------------------------------------------------------------
# 统一社会信用代码 (GB 32100-2015)
# ---------------------------------------------------------------------------------------------------------------

#: The code's character set: digits and upper-case letters without I, O, S, V, Z; a character's value is its index.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CHAR_VALUE = {ch: i for i, ch in enumerate(CREDIT_CODE_CHARSET)}
#: Weight of position i (1-based) is 3^(i-1) mod 31.
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
_EXCLUDED_LETTERS = "IOSVZ"


def _fold(value: str) -> str:
    return unicodedata.normalize("NFKC", value)


def credit_code_check_char(first17: str) -> str:
    """The 18th character for the given first 17 (which must be in the charset).

    C18 = 31 − (Σ value(Ci) × Wi mod 31), where a result of 31 is written as 0.
    """
    if len(first17) != 17:
        raise ValueError("需要前17位字符")
    try:
        total = sum(_CHAR_VALUE[ch] * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=False))
    except KeyError as exc:
        raise ValueError(f"字符 {exc.args[0]!r} 不在统一社会信用代码字符集内") from None
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def normalise_credit_code(value: str) -> str:
    """Full-width → half-width, whitespace and hyphens removed, upper case."""
    return re.sub(r"[\s\-]", "", _fold(value)).upper()


def check_credit_code(value: object) -> tuple[str, list[str]]:
    """Validate a 统一社会信用代码; returns ``(normalised, problems)``.

    Checked: 18 characters, the GB 32100 charset, positions 3–8 digits (登记管理机关行政区划码), the check character.
    Not checked: the embedded 组织机构代码's own GB 11714 check digit (个体工商户 codes do not always carry one), nor
    that the code is registered (that is the 市场监管 data source's job), nor that positions 3–8 are in Inner Mongolia
    (an enterprise may be registered elsewhere, e.g. a subsidiary of a central SOE registered in Beijing).
    """
    if not isinstance(value, str) or not value.strip():
        return "", ["不能为空"]
    if texts.problem(value):  # invisible: "19位" alone would not tell the person what to delete
        return value, [texts.problem(value)]
    code = normalise_credit_code(value)
    if len(code) != 18:
        return code, [f"应为18位，当前为{len(code)}位"]
    bad = sorted({ch for ch in code if ch not in _CHAR_VALUE})
    if bad:
        msg = f"含有不允许的字符 {'、'.join(bad)}（只允许数字和除 I、O、S、V、Z 以外的大写字母）"
        if any(ch in _EXCLUDED_LETTERS for ch in bad):
            msg += "；请检查是否把数字0、1、5、2误写成了字母O、I、S、Z"
        return code, [msg]
    if not code[2:8].isdigit():
        return code, ["第3–8位应为数字（登记管理机关行政区划码）"]
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return code, ["校验位不正确，请逐位核对营业执照上的代码"]
    return code, []


def is_valid_credit_code(value: object) -> bool:
    return not check_credit_code(value)[1]


# ---------------------------------------------------------------------------------------------------------------
# 采矿许可证证号
# ---------------------------------------------------------------------------------------------------------------

_MINING_NO = re.compile(r"C(\d{6})(\d{4})(\d{2})(\d{10})")
#: 自然资源部 (formerly 国土资源部) issues with 100000; every other issuer of a licence for a mine in Inner Mongolia
#: is the region, a 盟市 or a 旗县 bureau there, whose division code starts with 15.
_MINISTRY_ISSUER = "100000"
_MIN_YEAR = 1998  # the 采矿许可证 system of the 1998 《矿产资源开采登记管理办法》; unified numbering came later


def normalise_mining_licence_number(value: str) -> str:
    """Full-width → half-width, whitespace/hyphens removed, a leading 'c' upper-cased."""
    return re.sub(r"[\s\-]", "", _fold(value)).upper()


def check_mining_licence_number(value: object, today: date | None = None) -> tuple[str, list[str]]:
    """Validate a 采矿许可证证号 ``C`` + 22 digits, e.g. ``C1500002010061120067890``.

    Lenient: any spacing, full-width digits, lower-case ``c``.  Checked: the shape, the issuing authority code in
    positions 2–7 (``100000`` for the ministry or a 15xxxx code of an Inner Mongolia authority), the year in 8–11
    (1998 … ``today``'s year when given) and the month in 12–13 (01–12).  The last 10 digits (category codes and the
    sequence number of the 统一配号 system) are not interpreted.  The old 13/18-digit pre-配号 numbers are refused:
    every licence still in force has been re-numbered on its last 延续/变更 registration.
    """
    if not isinstance(value, str) or not value.strip():
        return "", ["不能为空"]
    if texts.problem(value):
        return value, [texts.problem(value)]
    number = normalise_mining_licence_number(value)
    m = _MINING_NO.fullmatch(number)
    if not m:
        return number, ["格式应为字母C加22位数字（共23位），如 C1500002010061120067890"]
    issuer, year, month = m.group(1), int(m.group(2)), int(m.group(3))
    problems = []
    if issuer != _MINISTRY_ISSUER and not issuer.startswith("15"):
        problems.append(
            f"第2–7位发证机关代码 {issuer} 不是自然资源部（100000）或内蒙古自治区的发证机关（15开头）"
        )
    max_year = today.year if today else 2099
    if not _MIN_YEAR <= year <= max_year:
        problems.append(f"第8–11位年份 {year} 不合理")
    if not 1 <= month <= 12:
        problems.append(f"第12–13位月份 {m.group(3)} 不合理")
    return number, problems


def is_valid_mining_licence_number(value: object, today: date | None = None) -> bool:
    return not check_mining_licence_number(value, today)[1]


# ---------------------------------------------------------------------------------------------------------------
# 安全生产许可证编号
# ---------------------------------------------------------------------------------------------------------------

SAFETY_LICENCE_MAX_LENGTH = 64


def check_safety_licence_number(value: object) -> tuple[str, list[str]]:
    """Free text as printed on the licence, e.g. ``（蒙）FM安许证字〔2023〕0001号``.

    The formats differ between issuers and years, so only: non-empty, at most 64 characters, no control
    characters, surrounding whitespace stripped.  The text is kept as typed (no NFKC: the brackets matter).
    """
    if not isinstance(value, str) or not value.strip():
        return "", ["不能为空"]
    text = value.strip()
    problems = []
    if len(text) > SAFETY_LICENCE_MAX_LENGTH:
        problems.append(f"过长（最多{SAFETY_LICENCE_MAX_LENGTH}个字符，当前{len(text)}个）")
    unsafe = texts.problem(text)
    if unsafe:
        problems.append(unsafe)
    return text, problems


# ---------------------------------------------------------------------------------------------------------------
# Dates
# ---------------------------------------------------------------------------------------------------------------

_DATE_PATTERNS = (
    re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})"),
    re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})"),
    re.compile(r"(\d{4})\.(\d{1,2})\.(\d{1,2})"),
    re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日"),
)


def parse_date(value: object) -> date:
    """A date from a ``date`` or a string ``2024-01-31``, ``2024/1/31``, ``2024.01.31`` or ``2024年1月31日``.

    Raises ``ValueError`` with a Chinese message.  A ``datetime`` is refused: these are calendar dates.
    """
    if isinstance(value, datetime):
        raise ValueError("应为日期（不含时间）")
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        raise ValueError("不能为空")
    text = _fold(value).strip()
    for pattern in _DATE_PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            try:
                return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError:
                raise ValueError(f"“{value}”不是有效日期") from None
    raise ValueError(f"“{value}”不是可识别的日期，请按 2024-01-31 的格式填写")


@dataclass(frozen=True)
class ValidityPeriod:
    """A licence's validity, both ends inclusive; ``valid_to`` None means 长期 (only the 营业执照 may say so)."""

    valid_from: date
    valid_to: date | None

    def __post_init__(self) -> None:
        if self.valid_to is not None and self.valid_to < self.valid_from:
            raise ValueError("有效期截止日期早于起始日期")

    def is_expired(self, today: date) -> bool:
        return self.valid_to is not None and self.valid_to < today

    def is_valid_on(self, day: date) -> bool:
        return self.valid_from <= day and not self.is_expired(day)

    def days_left(self, today: date) -> int | None:
        """Days from ``today`` to ``valid_to`` (negative once expired); None when 长期."""
        return None if self.valid_to is None else (self.valid_to - today).days

    def to_dict(self) -> dict:
        return {
            "valid_from": self.valid_from.isoformat(),
            "valid_to": None if self.valid_to is None else self.valid_to.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict) -> ValidityPeriod:
        to = data.get("valid_to")
        return cls(parse_date(data["valid_from"]), None if to in (None, "", "长期") else parse_date(to))
