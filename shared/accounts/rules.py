"""The rules of accounts, as plain Python (no I/O): roles, areas, who may manage whom, the password policy.

`ROLES`, `REGION` and `WORKSPACES` are the one list of them (`shared.identity` re-exports them)."""
from __future__ import annotations

import re
import secrets
import unicodedata
from dataclasses import dataclass

from shared import text as texts
from shared.contracts import DEPARTMENT_CODES
from shared.errors import FieldError, InvalidInput, NotPermitted
from shared.regions import LEAGUE_NAMES

ROLES = {
    "enterprise": "矿山企业",
    "bureau": "盟市自然资源局",
    "department_reviewer": "部门审核人员",
    "region_office": "自治区自然资源厅/协调机制办公室",
    "evaluator": "第三方评估机构",
    "admin": "系统管理员",
}

REGION = "自治区"
LEAGUES = LEAGUE_NAMES  # the 12 盟市 an account's area may name (contracts/regions)
AREAS = (REGION, *LEAGUES)

# Where each role lands after signing in (the portal's home page redirects there).
WORKSPACES = {
    "enterprise": "/intake/",
    "bureau": "/review/",
    "department_reviewer": "/review/",
    "region_office": "/evaluation/",
    "evaluator": "/evaluation/",
    "admin": "/portal/admin",
}

CREDIT_CODE = re.compile(r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$")
# GB 32100-2015: the 31 characters of a 统一社会信用代码 (a character's value is its index) and the weights of the
# first 17 positions (3^(i-1) mod 31); the 18th is the check character 31 - (Σ value × weight mod 31), 31 → 0.
CREDIT_CODE_CHARSET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = tuple(pow(3, i, 31) for i in range(17))
# An evaluator's institution: the id of an entry of review_routing's register (`inst-` and 1 to 40 of a-z 0-9 -).
INSTITUTION_ID = re.compile(r"^inst-[a-z0-9-]{1,40}$")
USERNAME = re.compile(r"^[A-Za-z0-9_.\-@]{3,64}$")
PASSWORD_MIN = 10
PASSWORD_MAX = 128
DISPLAY_NAME_MAX = 64
# What the password policy says, once, for the forms.
PASSWORD_POLICY = f"密码至少{PASSWORD_MIN}位，须包含字母、数字、符号中的至少两类，且不能包含用户名。"

# Who the command line acts as (the operator at the server): an administrator.
OPERATOR = "命令行（运维人员）"

ACTIONS = {
    "create": "新建账号",
    "disable": "停用账号",
    "enable": "启用账号",
    "reset_password": "重置密码",
    "assign": "调整部门与地区",
    "change_password": "修改本人密码",
    "delete": "删除账号",
    "sign_out": "结束全部登录",
}


@dataclass(frozen=True)
class Actor:
    """Who asks for a change: a signed-in administrator or bureau, or the operator at the command line."""

    username: str
    role: str
    area: str | None = None
    display_name: str = ""

    @property
    def label(self) -> str:
        return self.display_name or self.username


def normalise_credit_code(value: str) -> str:
    """Full-width folded to half-width, spaces and hyphens removed, upper case."""
    return re.sub(r"[\s\-]", "", unicodedata.normalize("NFKC", value or "")).upper()


def credit_code_check_char(first17: str) -> str:
    total = sum(CREDIT_CODE_CHARSET.index(ch) * w for ch, w in zip(first17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_CHARSET[(31 - total % 31) % 31]


def credit_code_problems(code: str | None) -> list[str]:
    """Why a (normalised) 统一社会信用代码 is refused: its format, then its GB 32100-2015 check character."""
    if not code:
        return ["请填写统一社会信用代码"]
    if not CREDIT_CODE.match(code):
        return ["统一社会信用代码须为18位（数字与大写字母，不含I、O、S、V、Z，第3至8位为行政区划代码）"]
    expected = credit_code_check_char(code[:17])
    if code[17] != expected:
        return [f"统一社会信用代码校验位不正确（按GB 32100-2015，第18位应为{expected}），请核对"]
    return []


def status_label(active: bool) -> str:
    return "启用" if active else "停用"


def password_problems(password: str | None, username: str = "") -> list[str]:
    """Why a new password is refused (empty when it is accepted), in Chinese."""
    if not password:
        return ["请填写密码"]
    problems = []
    if any(unicodedata.category(c) in ("Cc", "Cs") for c in password):
        problems.append("密码不能含有控制字符或无法识别的字符")
    if len(password) < PASSWORD_MIN:
        problems.append(f"密码至少{PASSWORD_MIN}位")
    if len(password) > PASSWORD_MAX:
        problems.append(f"密码不能超过{PASSWORD_MAX}位")
    kinds = sum(bool(re.search(pattern, password)) for pattern in (r"[A-Za-z]", r"\d", r"[^A-Za-z\d]"))
    if kinds < 2:
        problems.append("密码须包含字母、数字、符号中的至少两类")
    if username and len(username) >= 3 and username.lower() in password.lower():
        problems.append("密码不能包含用户名")
    return problems


def check_password(password: str | None, username: str = "", field: str = "password") -> None:
    problems = password_problems(password, username)
    if problems:
        raise InvalidInput("密码不符合要求", [FieldError(field, p) for p in problems])


EMAIL = re.compile(r"^[^@\s<>\"',;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?"
                   r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$")


def email_problems(email: str | None) -> list[FieldError]:
    """The optional email address of an account (notifications are also sent there); '' or None: none."""
    if email and (len(email) > 254 or not EMAIL.match(email)):
        return [FieldError("email", "请填写有效的电子邮箱地址，或留空")]
    return []


def normal_email(email: str | None) -> str | None:
    return (email or "").strip().lower() or None


def account_problems(*, username: str, role: str, display_name: str | None, department: str | None,
                     area: str | None, enterprise: str | None, institution: str | None = None) -> list[FieldError]:
    """What is wrong with an account's fields (every problem at once)."""
    errors = []
    if not USERNAME.match(username or ""):
        errors.append(FieldError("username", "用户名须为3至64位字母、数字或 _ . - @"))
    if role not in ROLES:
        errors.append(FieldError("role", "请选择角色：" + "、".join(ROLES.values())))
    if display_name is not None and len(display_name) > DISPLAY_NAME_MAX:
        errors.append(FieldError("display_name", f"名称不能超过{DISPLAY_NAME_MAX}个字"))
    elif display_name and texts.problem(display_name):
        errors.append(FieldError("display_name", texts.problem(display_name)))
    if role == "department_reviewer":
        if department not in DEPARTMENT_CODES:
            errors.append(FieldError("department", "部门审核人员须选择附件3所列的部门"))
        if area not in AREAS:
            errors.append(FieldError("area", "部门审核人员须选择层级：自治区或一个盟市"))
    elif department:
        errors.append(FieldError("department", "只有部门审核人员可以指定部门"))
    if role == "bureau" and area not in LEAGUES:
        errors.append(FieldError("area", "盟市自然资源局账号须选择所属盟市"))
    if role == "enterprise":
        if not enterprise or not CREDIT_CODE.match(enterprise):
            errors.append(FieldError("enterprise", "矿山企业账号须填写18位统一社会信用代码"))
    elif enterprise:
        errors.append(FieldError("enterprise", "只有矿山企业账号可以绑定统一社会信用代码"))
    if role == "evaluator":
        if not institution or not INSTITUTION_ID.match(institution):
            errors.append(FieldError("institution",
                                     "第三方评估机构账号须填写所属评估机构（评估机构名录中的编号，如 inst-…）"))
    elif institution:
        errors.append(FieldError("institution", "只有第三方评估机构账号可以绑定评估机构"))
    if area and area not in AREAS and not any(e.field == "area" for e in errors):
        errors.append(FieldError("area", "地区须为自治区或一个盟市"))
    return errors


def default_area(role: str, area: str | None) -> str | None:
    """Regional roles cover the whole region."""
    if role in ("region_office", "admin", "evaluator") and not area:
        return REGION
    return area or None


def may_manage(actor: Actor, role: str, area: str | None) -> None:
    """An administrator manages every account; a bureau only the department reviewers of its own 盟市; the region
    office (which keeps the register of evaluation institutions) the evaluators' accounts."""
    if actor.role == "admin":
        return
    if actor.role == "bureau":
        if role == "department_reviewer" and area is not None and area == actor.area:
            return
        raise NotPermitted(f"盟市自然资源局只能管理本盟市（{actor.area or '未指定'}）部门审核人员的账号")
    if actor.role == "region_office":
        if role == "evaluator":
            return
        raise NotPermitted("自治区自然资源厅只能管理第三方评估机构的账号")
    raise NotPermitted("只有系统管理员、盟市自然资源局或自治区自然资源厅可以管理账号")


def not_self(actor: Actor, username: str, what: str) -> None:
    if actor.username == username:
        raise NotPermitted(f"不能{what}自己的账号，请由其他管理员操作")


# No 0/O, 1/l/I: it is read off a screen and typed.
_OTP_LETTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ"
_OTP_DIGITS = "23456789"


def one_time_password(choice=secrets.choice) -> str:
    """A password shown once to the administrator, changed by its user at the next sign-in: three groups of
    four letters and digits (at least one of each), e.g. `k7Pq-3mXa-9tRw`."""
    while True:
        text = "".join(choice(_OTP_LETTERS + _OTP_DIGITS) for _ in range(12))
        if re.search(r"\d", text) and re.search(r"[A-Za-z]", text):
            return "-".join(text[i:i + 4] for i in range(0, 12, 4))
