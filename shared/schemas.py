"""Marshmallow schemas every app's OpenAPI document shares: the error body all refusals answer with."""
from __future__ import annotations

from marshmallow import Schema, fields


class ErrorSchema(Schema):
    """The body of every 4xx/5xx JSON answer (see `shared.web`): a status, a message for people and, for
    input errors, the fields at fault with their messages."""

    code = fields.Integer(required=True, metadata={"description": "HTTP status"})
    message = fields.String(required=True, metadata={"description": "说明(中文)"})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()),
                         metadata={"description": "字段路径 → 错误说明"})


# The error answers most operations can give; add the operation-specific ones (404, 409, 503) beside them.
COMMON_ERRORS = (401, 403, 422)


def document_errors(blueprint, *statuses: int):
    """Decorator: document `statuses` (default COMMON_ERRORS) as ErrorSchema answers of the operation."""
    def decorate(view):
        for status in statuses or COMMON_ERRORS:
            view = blueprint.alt_response(status, schema=ErrorSchema, description=_DESCRIPTIONS.get(status))(view)
        return view

    return decorate


_DESCRIPTIONS = {400: "请求有误", 401: "未登录", 403: "无权访问", 404: "不存在", 409: "状态冲突，请刷新后重试",
                 413: "上传内容过大", 422: "输入有误（errors 按字段说明）", 503: "依赖的服务暂不可用"}
