"""Marshmallow schemas every app's OpenAPI document shares (the error body all refusals answer with), and the
one way request bodies are read: `FieldErrorParser` (a flask-smorest blueprint's ARGUMENTS_PARSER) and `load`
turn marshmallow's messages into `InvalidInput` naming each field by its path (``indicators[0].score``), in
Chinese; JSON numbers are read as exact decimals; `Body` refuses unknown keys."""
from __future__ import annotations

import json
from decimal import Decimal

from marshmallow import Schema, ValidationError, fields
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from shared.errors import FieldError, InvalidInput


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


# --- reading bodies ---------------------------------------------------------------------------------------------
INVALID_BODY = "提交的数据有误，请按提示修改"
LOCATIONS = {"json", "query", "form", "files", "path", "headers", "querystring"}


# --- reading bodies ---------------------------------------------------------------------------------------------
def flatten(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested messages as the platform's field paths: ``indicators[0].score``."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            if isinstance(key, int) or (isinstance(key, str) and key.isdigit()):
                path = f"{prefix}[{key}]"
            elif key == "_schema":
                path = prefix or "(body)"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            for field, texts in flatten(value, path).items():
                out.setdefault(field, []).extend(texts)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        out[prefix or "(body)"] = list(messages)
    elif isinstance(messages, list):
        for value in messages:
            for field, texts in flatten(value, prefix).items():
                out.setdefault(field, []).extend(texts)
    else:
        out[prefix or "(body)"] = [str(messages)]
    return out


def field_errors(messages) -> list[FieldError]:
    from shared.web import translate_messages  # shared.web imports this module

    return [FieldError(field, text) for field, texts in flatten(translate_messages(messages)).items()
            for text in texts]


def load(schema: Schema, data) -> dict:
    """`data` loaded through `schema`, or InvalidInput naming each field (what the HTTP layer answers)."""
    try:
        return schema.load(data)
    except ValidationError as error:
        raise InvalidInput(INVALID_BODY, field_errors(error.messages)) from None


class FieldErrorParser(FlaskParser):
    """Request bodies with exact decimals (0.1 stays Decimal("0.1")), and errors named by field path."""

    def _raw_load_json(self, req):
        if not is_json_request(req):
            return core.missing
        return json.loads(req.get_data(cache=True).decode("utf-8"), parse_float=Decimal)

    def _handle_invalid_json_error(self, error, req, *args, **kwargs):
        raise InvalidInput("请求体不是合法的 JSON", [FieldError("(body)", str(error))])

    def handle_error(self, error, req, schema, *, error_status_code, error_headers):
        messages = error.messages           # by location ({"json": {...}}): the fields are what people want
        if isinstance(messages, dict) and set(messages) <= LOCATIONS:
            messages = {k: v for location in messages.values() for k, v in location.items()}
        raise InvalidInput(INVALID_BODY, field_errors(messages))


# --- request bodies ---------------------------------------------------------------------------------------------
class Body(Schema):
    """A JSON object of a request body: unknown keys refused."""

    error_messages = {"type": "应为对象", "unknown": "不认识的字段"}
