"""The hand-written reader of a mine as people submit it (forms, the API, the demo data): every field checked,
every error collected with its field path and a Chinese reason (``FieldError``), Chinese labels accepted wherever
a code is expected (``"露天"`` → ``open_pit``, ``"鄂尔多斯市"`` → ``ordos``, ``"煤"`` → ``coal``)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from shared import regions
from shared import text as texts

from .errors import FieldError
from .identifiers import (
    ValidityPeriod,
    check_credit_code,
    check_mining_licence_number,
    check_safety_licence_number,
    parse_date,
)
from .mine_values import (
    FIELD_LABELS,
    INDUSTRY_GROUPS,
    MINING_AREA_MAX_LENGTH,
    MINING_METHODS,
    NAME_MAX_LENGTH,
    PRODUCTION_STATUSES,
    RESERVE_YEARS_MAX,
    SCALES,
    Enterprise,
    Licence,
)
from .minerals import (
    MAX_MINERALS,
    OTHER_MINERAL,
    OTHER_MINERAL_LABEL,
    Mineral,
    find_mineral,
    suggest_industry_group,
)

__all__ = ["MineReader", "validate_mine"]

_ALIASES = {
    "scale": {"大型": "large", "中型": "medium", "小型": "small", "大": "large", "中": "medium", "小": "small"},
    "mining_method": {
        "露天": "open_pit", "露天开采": "open_pit", "地下": "underground", "地下开采": "underground",
        "井工": "underground", "井工开采": "underground", "油气": "oil_gas", "油气开采": "oil_gas",
    },
    "production_status": {
        "在产": "in_production", "生产": "in_production", "停产": "suspended", "在建": "construction",
        "基建": "construction", "关闭": "closed", "闭坑": "closed",
    },
}
_COMBINED_METHOD_WORDS = ("combined", "mixed", "露天+地下", "露天和地下", "联合", "露井联采", "露天/地下")


def validate_mine(data: object, today: date) -> list[FieldError]:
    """Every error in ``data`` (a mine as a dict), each naming its field and the reason in Chinese.

    ``today`` decides what is expired or in the future; an empty list means ``Mine.create`` will succeed.
    """
    return list(MineReader(data, today).errors)


class MineReader:
    """Reads a mine dict into canonical values, collecting every error.  ``today`` None skips date-relative checks
    (rehydrating stored data)."""

    def __init__(self, data: object, today: date | None):
        self.today = today
        self.errors: list[FieldError] = []
        self.values: dict = {}
        if not isinstance(data, Mapping):
            self.errors.append(FieldError("", "矿山信息应为一个对象（键值对）"))
            return
        self.data = data
        self._enterprise()
        self.values["name"] = self._text("name", data.get("name"))
        self._licence("mining_licence", check_mining_licence_number)
        self._licence("safety_licence", lambda v, _t: check_safety_licence_number(v))
        self._licence("business_licence", None)
        self._location()
        self._minerals()
        self.values["scale"] = self._choice("scale", SCALES)
        self._industry_group()
        self._mining_method()
        self.values["production_status"] = self._choice("production_status", PRODUCTION_STATUSES)
        self._production_start()
        self._production_stopped()
        self._reserve_years()
        self._mining_area()

    # -- helpers -----------------------------------------------------------------------------------------------

    def err(self, path: str, reason: str) -> None:
        label = FIELD_LABELS.get(path) or FIELD_LABELS.get(path.split("[")[0]) or path
        self.errors.append(FieldError(path, f"{label}：{reason}"))

    def _section(self, key: str) -> Mapping:
        value = self.data.get(key)
        if value is None:
            self.err(key, "未填写")
            return {}
        if not isinstance(value, Mapping):
            self.err(key, "格式不正确，应为一个对象")
            return {}
        return value

    def _text(self, path: str, value: object, max_len: int = NAME_MAX_LENGTH) -> str | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            self.err(path, "不能为空")
            return None
        if not isinstance(value, str):
            self.err(path, "应为文字")
            return None
        unsafe = texts.problem(value, allow_newlines=True) if self.today is not None else None  # stored: as is
        if unsafe:
            self.err(path, unsafe)
            return None
        text = " ".join(texts.normalize(value).split())
        if len(text) > max_len:
            self.err(path, f"过长（最多{max_len}个字符，当前{len(text)}个）")
            return None
        return text

    def _date(self, path: str, value: object, required: bool = True) -> date | None:
        if value is None or (isinstance(value, str) and not value.strip()):
            if required:
                self.err(path, "不能为空")
            return None
        try:
            return parse_date(value)
        except ValueError as exc:
            self.err(path, str(exc))
            return None

    def _choice(self, key: str, allowed: Mapping[str, str]) -> str | None:
        value = self.data.get(key)
        if value is None or (isinstance(value, str) and not value.strip()):
            self.err(key, "未选择（可选：" + "、".join(allowed.values()) + "）")
            return None
        if isinstance(value, str):
            v = value.strip()
            if v in allowed:
                return v
            alias = _ALIASES.get(key, {}).get(v)
            if alias:
                return alias
        self.err(key, f"“{value}”不是可选值（可选：" + "、".join(allowed.values()) + "）")
        return None

    # -- sections ----------------------------------------------------------------------------------------------

    def _enterprise(self) -> None:
        ent = self._section("enterprise")
        if not ent and "enterprise" in self.errors_fields():
            self.values["enterprise"] = None
            return
        name = self._text("enterprise.name", ent.get("name"))
        code, problems = check_credit_code(ent.get("credit_code"))
        for p in problems:
            self.err("enterprise.credit_code", p)
        self.values["enterprise"] = Enterprise(name, code) if name and not problems else None

    def errors_fields(self) -> set[str]:
        return {e.field for e in self.errors}

    def _licence(self, key: str, check_number) -> None:
        sec = self._section(key)
        if not sec and key in self.errors_fields():
            self.values[key] = None
            return
        number = None
        ok = True
        if check_number is not None:
            number, problems = check_number(sec.get("number"), self.today)
            for p in problems:
                self.err(f"{key}.number", p)
            ok = not problems
        start = self._date(f"{key}.valid_from", sec.get("valid_from"))
        raw_to = sec.get("valid_to")
        if key == "business_licence" and (raw_to is None or (isinstance(raw_to, str) and raw_to.strip() in
                                                                ("", "长期", "永久", "长期有效"))):
            end, end_ok = None, True  # 营业期限 "长期"
        else:
            end = self._date(f"{key}.valid_to", raw_to)
            end_ok = end is not None
        if start is None or not end_ok:
            self.values[key] = None
            return
        if end is not None and end < start:
            self.err(f"{key}.valid_to", f"截止日期 {end.isoformat()} 早于起始日期 {start.isoformat()}")
            self.values[key] = None
            return
        if self.today is not None:
            if start > self.today:
                self.err(f"{key}.valid_from", f"起始日期 {start.isoformat()} 晚于今天，证照尚未生效")
                ok = False
            if end is not None and end < self.today:
                self.err(f"{key}.valid_to", f"已于 {end.isoformat()} 过期，请填写延续后的有效期")
                ok = False
        self.values[key] = Licence(number, ValidityPeriod(start, end)) if ok else None

    def _location(self) -> None:
        raw_league, raw_county = self.data.get("league"), self.data.get("county")
        league = None
        if raw_league is None or (isinstance(raw_league, str) and not raw_league.strip()):
            self.err("league", "未选择")
        else:
            league = regions.find_league(raw_league)
            if league is None:
                self.err("league", f"“{raw_league}”不是内蒙古自治区的盟市")
        self.values["league"] = league.code if league else None
        if raw_county is None or (isinstance(raw_county, str) and not raw_county.strip()):
            self.err("county", "未选择")
            self.values["county"] = None
            return
        if league is None:
            self.values["county"] = None  # cannot be checked without the 盟市; its error already says why
            return
        county = regions.find_county(league, raw_county)
        if county is None:
            elsewhere = regions.county_by_code(str(raw_county).strip())
            if elsewhere is None:
                matches = [c for c in regions.COUNTIES if c.name == str(raw_county).strip()]
                elsewhere = matches[0] if matches else None
            if elsewhere is not None:
                other = regions.league_by_code(elsewhere.league_code).name
                self.err("county", f"“{elsewhere.name}”属于{other}，不属于{league.name}")
            else:
                self.err("county", f"“{raw_county}”不是{league.name}的旗县（市、区）")
        self.values["county"] = county.code if county else None

    def _minerals(self) -> None:
        raw = self.data.get("minerals")
        self.values["minerals"] = None
        if raw is None or raw == [] or raw == ():
            self.err("minerals", "请至少选择一个矿种")
            return
        if isinstance(raw, (str, bytes)) or not isinstance(raw, (list, tuple)):
            self.err("minerals", "格式不正确，应为矿种列表")
            return
        if len(raw) > MAX_MINERALS:
            self.err("minerals", f"最多填写{MAX_MINERALS}个矿种")
            return
        out, seen, ok = [], set(), True
        for i, item in enumerate(raw):
            path = f"minerals[{i}]"
            m = self._mineral(path, item)
            if m is None:
                ok = False
                continue
            key = (m.code, m.other)
            if key in seen:
                self.errors.append(FieldError(path, f"开采矿种：“{m.name}”重复填写"))
                ok = False
                continue
            seen.add(key)
            out.append(m)
        if ok:
            self.values["minerals"] = tuple(out)

    def _mineral(self, path: str, item: object) -> Mineral | None:
        code, other = None, None
        if isinstance(item, str):
            code = item
        elif isinstance(item, Mapping):
            code, other = item.get("code"), item.get("other")
        else:
            self.errors.append(FieldError(path, "开采矿种：格式不正确"))
            return None
        if not isinstance(code, str) or not code.strip():
            self.errors.append(FieldError(path, "开采矿种：未选择矿种"))
            return None
        code = code.strip()
        if code in (OTHER_MINERAL, OTHER_MINERAL_LABEL):
            if not isinstance(other, str) or not other.strip():
                self.errors.append(FieldError(f"{path}.other", "开采矿种：选择“其他”时请填写矿种名称"))
                return None
            unsafe = texts.problem(other, allow_newlines=True) if self.today is not None else None
            if unsafe:
                self.errors.append(FieldError(f"{path}.other", f"开采矿种：{unsafe}"))
                return None
            other = " ".join(texts.normalize(other).split())
            if len(other) > 50:
                self.errors.append(FieldError(f"{path}.other", "开采矿种：矿种名称过长（最多50个字符）"))
                return None
            known = find_mineral(other)
            return Mineral(known.code) if known else Mineral(OTHER_MINERAL, other)
        t = find_mineral(code)
        if t is None:
            self.errors.append(FieldError(
                path, f"开采矿种：“{code}”不在矿种目录中，请选择“其他”并填写矿种名称"))
            return None
        return Mineral(t.code)

    def _industry_group(self) -> None:
        raw = self.data.get("industry_group")
        value = None
        if isinstance(raw, bool):
            value = None
        elif isinstance(raw, int):
            value = raw
        elif isinstance(raw, str) and raw.strip() in ("1", "2", "一", "二", "（一）", "（二）", "(一)", "(二)"):
            value = 1 if raw.strip() in ("1", "一", "（一）", "(一)") else 2
        if value in INDUSTRY_GROUPS:
            self.values["industry_group"] = value
            return
        self.values["industry_group"] = None
        suggestion = suggest_industry_group(self.values.get("minerals") or ())
        hint = f"（按所填矿种建议选择{INDUSTRY_GROUPS[suggestion][:3]}）" if suggestion else ""
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.err("industry_group", "未确认，请选择（一）或（二）" + hint)
        else:
            self.err("industry_group", f"“{raw}”不是可选值，应为（一）或（二）" + hint)

    def _mining_method(self) -> None:
        raw = self.data.get("mining_method")
        if isinstance(raw, str) and raw.strip().lower() in _COMBINED_METHOD_WORDS:
            self.err("mining_method", "露天与地下联合开采的矿山，请按现阶段主要开采方式选择其一（附件1指标9）")
            self.values["mining_method"] = None
            return
        method = self._choice("mining_method", MINING_METHODS)
        self.values["mining_method"] = method
        minerals = self.values.get("minerals")
        if method is None or not minerals:
            return
        types = [m.type for m in minerals]
        if method == "oil_gas" and not any(t is not None and t.well for t in types):
            self.err("mining_method", "油气开采方式只适用于石油、天然气、煤层气、页岩气、地热、矿泉水等井采矿种")
        elif method != "oil_gas" and all(
            t is not None and t.well and t.category == "energy" and t.code != "geothermal" for t in types
        ):
            self.err("mining_method", f"所填矿种（{'、'.join(m.name for m in minerals)}）应选择油气开采方式")

    def _production_start(self) -> None:
        status = self.values.get("production_status")
        raw = self.data.get("production_start_date")
        self.values["production_start_date"] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            if status not in ("construction", None):
                self.err("production_start_date", f"{PRODUCTION_STATUSES[status]}矿山须填写正式投产日期")
            return
        start = self._date("production_start_date", raw)
        if start is None:
            return
        if start.year < 1900:
            self.err("production_start_date", "日期不合理")
            return
        if self.today is not None and start > self.today and status != "construction":
            self.err("production_start_date", f"{start.isoformat()} 晚于今天；尚未投产的矿山请选择“在建”")
            return
        self.values["production_start_date"] = start

    def _production_stopped(self) -> None:
        """停产日期 (optional): only for a mine 停产 or 关闭, not before it started, not in the future."""
        status = self.values.get("production_status")
        raw = self.data.get("production_stopped_on")
        self.values["production_stopped_on"] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return
        stopped = self._date("production_stopped_on", raw)
        if stopped is None:
            return
        if status in ("in_production", "construction"):
            self.err("production_stopped_on", f"生产状态为“{PRODUCTION_STATUSES[status]}”的矿山不填写停产日期；"
                                              "已停产或关闭的，请先将生产状态改为“停产”或“关闭”")
            return
        if stopped.year < 1900:
            self.err("production_stopped_on", "日期不合理")
            return
        if self.today is not None and stopped > self.today:
            self.err("production_stopped_on", f"{stopped.isoformat()} 晚于今天，请填写实际停产的日期")
            return
        start = self.values.get("production_start_date")
        if start is not None and stopped < start:
            self.err("production_stopped_on", f"{stopped.isoformat()} 早于正式投产日期 {start.isoformat()}")
            return
        self.values["production_stopped_on"] = stopped

    def _mining_area(self) -> None:
        """矿区范围 (optional) as the 采矿许可证 states it: free text, line breaks kept, blanks trimmed."""
        raw = self.data.get("mining_area")
        self.values["mining_area"] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return
        if not isinstance(raw, str):
            self.err("mining_area", "应为文字（采矿许可证所载的拐点坐标或面积）")
            return
        unsafe = texts.problem(raw, allow_newlines=True) if self.today is not None else None
        if unsafe:
            self.err("mining_area", unsafe)
            return
        lines = [" ".join(line.split()) for line in texts.normalize(raw).replace("\r\n", "\n").split("\n")]
        text = "\n".join(line for line in lines if line)
        if len(text) > MINING_AREA_MAX_LENGTH:
            self.err("mining_area", f"过长（最多{MINING_AREA_MAX_LENGTH}个字符，当前{len(text)}个）")
            return
        self.values["mining_area"] = text

    def _reserve_years(self) -> None:
        raw = self.data.get("remaining_reserve_years")
        self.values["remaining_reserve_years"] = None
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            self.err("remaining_reserve_years", "不能为空（按上一年度储量年度报告填写）")
            return
        if isinstance(raw, bool):
            self.err("remaining_reserve_years", "应为数字")
            return
        try:
            value = Decimal(str(raw).strip()) if isinstance(raw, (str, int, float, Decimal)) else None
        except InvalidOperation:
            value = None
        if value is None or not value.is_finite():
            self.err("remaining_reserve_years", f"“{raw}”不是数字")
            return
        if value < 0:
            self.err("remaining_reserve_years", "不能为负数")
            return
        if value.as_tuple().exponent < -2:
            self.err("remaining_reserve_years", "最多保留两位小数")
            return
        if value > RESERVE_YEARS_MAX:
            self.err("remaining_reserve_years", f"不能超过{RESERVE_YEARS_MAX}年")
            return
        if value.as_tuple().exponent > 0:
            value = value.quantize(Decimal(1))  # "1E+1" -> "10"
        self.values["remaining_reserve_years"] = value
