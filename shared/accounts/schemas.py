"""The account administration's HTTP bodies (the portal's `/api/v1/auth/users…`, `/audit`, `/password`): what
the API takes and answers, documented in `contracts/http/portal.openapi.json`."""
from __future__ import annotations

from marshmallow import Schema, fields, validate


class AccountSchema(Schema):
    """An account as the administration reads it (labels beside the codes; never a password)."""

    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True)
    role_label = fields.String(required=True)
    department = fields.String(allow_none=True, metadata={"description": "附件3 部门代码"})
    department_label = fields.String(metadata={"description": "部门名称"})
    area = fields.String(metadata={"description": "自治区或盟市"})
    county = fields.String()
    enterprise = fields.String(metadata={"description": "统一社会信用代码"})
    institution = fields.String(metadata={"description": "第三方评估机构账号所属的评估机构（评估机构名录编号）"})
    email = fields.String(allow_none=True, metadata={"description": "电子邮箱（可选：通知同时发送到此邮箱）"})
    active = fields.Boolean(required=True)
    status_label = fields.String(required=True, metadata={"description": "启用/停用"})
    must_change = fields.Boolean(required=True, metadata={"description": "下次登录须修改密码"})
    created_at = fields.DateTime(allow_none=True)
    changed_at = fields.DateTime(allow_none=True)


class AccountListSchema(Schema):
    items = fields.List(fields.Nested(AccountSchema), required=True)


class NewAccountSchema(Schema):
    username = fields.String(required=True, validate=validate.Length(max=64))
    role = fields.String(required=True, validate=validate.Length(max=32),
                         metadata={"description": "enterprise, bureau, department_reviewer, region_office, "
                                                  "evaluator, admin（盟市自然资源局只能建 department_reviewer）"})
    display_name = fields.String(load_default="", validate=validate.Length(max=64))
    department = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32),
                               metadata={"description": "部门审核人员：附件3 部门代码"})
    area = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=16),
                         metadata={"description": "自治区或盟市名称（盟市自然资源局建的账号默认本盟市）"})
    county = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    enterprise = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=18))
    institution = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64),
                                metadata={"description": "第三方评估机构账号必填：所属评估机构的编号（inst-…）"})
    password = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=128),
                             metadata={"description": "不填则生成一次性密码，只在本次应答中给出"})
    must_change = fields.Boolean(load_default=True, metadata={"description": "下次登录须修改密码（默认是）"})
    email = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=254),
                          metadata={"description": "电子邮箱（可选：通知同时发送到此邮箱）"})


class CreatedAccountSchema(Schema):
    account = fields.Nested(AccountSchema, required=True)
    one_time_password = fields.String(allow_none=True, metadata={"description": "生成的一次性密码（只给一次）"})


class AssignAccountSchema(Schema):
    display_name = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64))
    department = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32))
    area = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=16))
    county = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=32),
                           metadata={"description": "空字符串清除旗县"})
    institution = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=64),
                                metadata={"description": "第三方评估机构账号：所属评估机构的编号（inst-…）"})
    email = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=254),
                          metadata={"description": "电子邮箱；空字符串清除"})


class ResetPasswordSchema(Schema):
    password = fields.String(allow_none=True, load_default=None, validate=validate.Length(max=128),
                             metadata={"description": "不填则生成一次性密码"})
    must_change = fields.Boolean(load_default=True)


class AccountChangeSchema(Schema):
    account = fields.Nested(AccountSchema, required=True)
    one_time_password = fields.String(allow_none=True)
    ended_sign_ins = fields.Integer(required=True, metadata={"description": "结束的登录（会话与令牌）数"})


class ChangePasswordSchema(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=256))
    new_password = fields.String(required=True, validate=validate.Length(max=256))


class PasswordChangedSchema(Schema):
    ended_sign_ins = fields.Integer(required=True, metadata={"description": "结束的登录数（含本次：请重新取令牌）"})


class AuditEntrySchema(Schema):
    at = fields.DateTime(required=True)
    actor = fields.String(required=True)
    actor_name = fields.String()
    action = fields.String(required=True)
    action_label = fields.String(required=True)
    target = fields.String(required=True)
    target_name = fields.String()
    target_role_label = fields.String()
    target_area = fields.String()
    detail = fields.String()


class AuditQuerySchema(Schema):
    target = fields.String(load_default=None, validate=validate.Length(max=64))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class AuditListSchema(Schema):
    items = fields.List(fields.Nested(AuditEntrySchema), required=True)
