"""The service-layer plumbing every service shares: the message bus, the fake unit of work's rollback, the
domain errors' one mapping to HTTP, and the clock and decimal helpers."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from flask_smorest import Blueprint
from hypothesis import given
from hypothesis import strategies as st

from shared.bus import MessageBus
from shared.clock import beijing_date, beijing_time
from shared.config import REPO_ROOT, Settings
from shared.contracts import ContractError, ContractRegistry, new_event
from shared.decimals import plain, plain_or_none
from shared.errors import (
    Conflict,
    DomainError,
    FieldError,
    InvalidInput,
    InvalidTransition,
    NotFound,
    NotPermitted,
    Unavailable,
)
from shared.testing import FakeUnitOfWork
from shared.web import create_service_app, http_status


@dataclass(frozen=True)
class AddItem:
    key: str
    fail: bool = False


class ItemsUnitOfWork(FakeUnitOfWork):
    repositories = ("items",)

    def __init__(self, registry=None):
        super().__init__(registry)
        self.items: dict[str, object] = {}


def add_item(cmd: AddItem, uow: ItemsUnitOfWork, clock) -> str:
    def work():
        uow.items[cmd.key] = clock()
        uow.publish(new_event("test.item_added", producer="intake", aggregate_type="item", aggregate_id=cmd.key,
                              aggregate_version=1, payload={}))
        if cmd.fail:
            raise Conflict("changed meanwhile")
        return cmd.key

    return uow.run(work)


def when_item_seen(envelope: dict, uow: ItemsUnitOfWork) -> None:
    uow.run(lambda: uow.items.setdefault(envelope["aggregate_id"], "seen"))


class TestMessageBus:
    def bus(self, uow):
        return MessageBus(uow_factory=lambda: uow, command_handlers={AddItem: add_item},
                          event_handlers={"test.item_seen": when_item_seen}, dependencies={"clock": lambda: "t0"})

    def test_a_command_reaches_its_handler_with_the_dependencies_it_names(self):
        uow = ItemsUnitOfWork()
        assert self.bus(uow).handle(AddItem("a")) == "a"
        assert uow.items == {"a": "t0"} and uow.commits == 1

    def test_a_failed_handler_leaves_repositories_and_events_as_they_were(self):
        uow = ItemsUnitOfWork()
        bus = self.bus(uow)
        bus.handle(AddItem("a"))
        with pytest.raises(Conflict):
            bus.handle(AddItem("b", fail=True))
        assert uow.items == {"a": "t0"}
        assert [e["aggregate_id"] for e in uow.events()] == ["a"]
        assert uow.commits == 1

    def test_a_missing_dependency_is_refused_when_the_bus_is_built(self):
        with pytest.raises(TypeError, match="clock"):
            MessageBus(uow_factory=ItemsUnitOfWork, command_handlers={AddItem: add_item})

    def test_an_unknown_command_is_a_lookup_error(self):
        @dataclass(frozen=True)
        class Unknown:
            pass

        with pytest.raises(LookupError):
            self.bus(ItemsUnitOfWork()).handle(Unknown())

    def test_events_are_routed_by_contract_type_and_others_ignored(self):
        uow = ItemsUnitOfWork()
        bus = self.bus(uow)
        bus.handle_event({"type": "test.item_seen", "aggregate_id": "x"}, uow)
        bus.handle_event({"type": "test.other", "aggregate_id": "y"}, uow)
        assert uow.items == {"x": "seen"}

    def test_consumer_handlers_join_the_consumers_transaction(self):
        joined = []
        uow = ItemsUnitOfWork()
        bus = MessageBus(uow_factory=ItemsUnitOfWork, command_handlers={},
                         event_handlers={"test.item_seen": when_item_seen},
                         uow_for=lambda tx: joined.append(tx) or uow)
        bus.consumer_handlers()["test.item_seen"]({"type": "test.item_seen", "aggregate_id": "z"}, "TX")
        assert joined == ["TX"] and uow.items == {"z": "seen"}

    def test_a_bus_without_uow_for_cannot_serve_a_consumer(self):
        with pytest.raises(RuntimeError):
            self.bus(ItemsUnitOfWork()).consumer_handlers()


def test_the_fake_validates_events_against_their_contracts():
    uow = ItemsUnitOfWork(ContractRegistry([REPO_ROOT / "contracts"]))
    bad = new_event("intake.application_submitted", producer="intake", aggregate_type="application",
                    aggregate_id="a", aggregate_version=1, payload={})
    with pytest.raises(ContractError):
        uow.run(lambda: uow.publish(bad))
    assert uow.published == []


def test_the_fake_refuses_publishing_outside_run():
    with pytest.raises(RuntimeError):
        ItemsUnitOfWork().publish({"type": "x"})


@pytest.mark.parametrize("error, status", [
    (InvalidInput("bad", [FieldError("name", "必填")]), 422), (NotFound("none"), 404), (NotPermitted("no"), 403),
    (InvalidTransition("closed"), 409), (Conflict("changed"), 409), (Unavailable("down"), 503),
    (DomainError("other"), 400),
])
def test_each_domain_error_answers_its_http_status_with_the_fields(error, status):
    blp = Blueprint("probe", __name__)

    @blp.route("/probe")
    def probe():
        raise error

    from shared import identity

    identity.public(probe)
    app = create_service_app("probe", settings=Settings(secret_key="k"), title="probe", blueprints=[blp])
    response = app.test_client().get("/probe", headers={"Accept": "application/json"})
    assert response.status_code == status == http_status(error)
    body = response.get_json()
    assert body["code"] == status and body["message"] == error.message
    assert body.get("errors") == (error.error_map() or None)


def test_a_subclass_keeps_the_meaning_of_its_base():
    class SubmissionRefused(InvalidInput):
        pass

    assert http_status(SubmissionRefused("x")) == 422


def test_field_errors_group_by_field_and_name_the_body_when_unnamed():
    error = InvalidInput("x", [FieldError("a", "1"), FieldError("a", "2"), FieldError("", "3")])
    assert error.error_map() == {"a": ["1", "2"], "(body)": ["3"]}
    assert error.to_list()[0] == {"field": "a", "message": "1"}


def test_beijing_date_turns_at_16_utc():
    assert beijing_date(datetime(2026, 1, 1, 15, 59, tzinfo=UTC)) == date(2026, 1, 1)
    assert beijing_date(datetime(2026, 1, 1, 16, 0, tzinfo=UTC)) == date(2026, 1, 2)
    assert beijing_date(datetime(2026, 1, 1, 16, 0)) == date(2026, 1, 2)  # naive is UTC
    assert beijing_time(datetime(2026, 1, 1, 0, 0, tzinfo=UTC)).hour == 8


@pytest.mark.parametrize("value, text", [
    (Decimal("2.50"), "2.5"), (Decimal("3.00"), "3"), (Decimal("1E+1"), "10"), (Decimal("0.00"), "0"),
    (Decimal("-0.5"), "-0.5"), (7, "7"), ("4.10", "4.1"),
])
def test_plain_decimal_text(value, text):
    assert plain(value) == text


def test_plain_or_none():
    assert plain_or_none(None) is None and plain_or_none(Decimal("1.0")) == "1"


@given(st.decimals(allow_nan=False, allow_infinity=False, places=4, min_value=-10**6, max_value=10**6))
def test_plain_is_exact_and_has_no_exponent(value):
    text = plain(value)
    assert Decimal(text) == value and "E" not in text.upper()


@pytest.mark.parametrize("body", [b"\x00", b'{"name": "x"', b"\xff\xfe{}", b'"a string"', b"[1, 2]"])
def test_a_body_that_is_not_a_json_object_is_a_client_error_naming_the_body(body):
    from marshmallow import Schema, fields

    from shared import identity

    class NameSchema(Schema):
        name = fields.String(required=True)

    blp = Blueprint("probe", __name__)

    @blp.route("/probe", methods=["POST"])
    @blp.arguments(NameSchema)
    def probe(data):
        return {"ok": True}

    identity.public(probe)
    app = create_service_app("probe", settings=Settings(secret_key="k"), title="probe", blueprints=[blp])
    response = app.test_client().post("/probe", data=body, headers={
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer x"})
    assert response.status_code in (400, 422)
    errors = response.get_json()["errors"]
    assert errors.get("(body)") == ["请求体不是合法的 JSON"] or errors.get("_schema") == ["输入类型不正确"]


def _probe_app():
    from marshmallow import Schema, fields

    from shared import identity

    class AnySchema(Schema):
        data = fields.Raw()

    blp = Blueprint("probe", __name__)

    @blp.route("/probe", methods=["GET", "POST"])
    def probe():
        return {"ok": True}

    identity.public(probe)
    return create_service_app("probe", settings=Settings(secret_key="k"), title="probe", blueprints=[blp])


@pytest.mark.parametrize("depth", [65, 1000, 5000])
def test_deeply_nested_json_is_refused_before_parsing(depth):
    body = b'{"data": ' + b"[" * (depth - 1) + b"]" * (depth - 1) + b"}"
    response = _probe_app().test_client().post("/probe", data=body, headers={
        "Content-Type": "application/json", "Accept": "application/json", "Authorization": "Bearer x"})
    assert response.status_code == 422
    assert "64" in response.get_json()["errors"]["(body)"][0]


def test_json_nesting_is_measured_outside_strings():
    from shared.web import json_depth

    assert json_depth(b'{"a": "[[[[{{{{", "b": [1, {"c": 2}]}') == 3
    assert json_depth(b'"\\"[[["') == 0
    assert json_depth(b"[" * 64 + b"]" * 64) == 64


def test_pages_cannot_be_framed_and_signed_in_answers_are_not_cached():
    client = _probe_app().test_client()
    anonymous = client.get("/probe")
    assert anonymous.headers["X-Frame-Options"] == "DENY"
    assert "frame-ancestors 'none'" in anonymous.headers["Content-Security-Policy"]
    assert "no-store" not in anonymous.headers.get("Cache-Control", "")
    with_token = client.get("/probe", headers={"Authorization": "Bearer x"})
    assert with_token.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("body, kept", [
    (b'{"points": 0.1}', Decimal("0.1")), (b'{"points": 1e400}', Decimal("1E+400")), (b'{"points": NaN}', None),
    (b'{"points": -Infinity}', None),
])
def test_json_body_keeps_decimals_exact_and_refuses_nan(body, kept):
    from flask import Flask
    from werkzeug.exceptions import UnprocessableEntity

    from shared.web import json_body

    app = Flask("probe")
    with app.test_request_context("/", method="POST", data=body, content_type="application/json"):
        if kept is None:
            with pytest.raises(UnprocessableEntity):
                json_body()
        else:
            assert json_body() == {"points": kept}


def test_the_fake_reads_outside_run_but_refuses_to_publish_there():
    uow = ItemsUnitOfWork()
    uow.items["a"] = 1
    assert uow.read(lambda: dict(uow.items)) == {"a": 1} and uow.reads == 1
    with pytest.raises(RuntimeError):
        uow.read(lambda: uow.publish({"type": "x"}))


def test_readiness_detail_is_for_the_inside_and_administrators():
    from shared import identity

    app = _probe_app()
    client = app.test_client()
    inside = client.get("/readyz").get_json()
    assert "checks" in inside
    through_proxy = client.get("/readyz", headers={"X-Forwarded-For": "203.0.113.9"}).get_json()
    assert set(through_proxy) == {"ready"}
    admin = identity.issue_token("k", identity.Principal("root", "admin"))
    detailed = client.get("/readyz", headers={"X-Forwarded-For": "203.0.113.9", "Authorization": f"Bearer {admin}"})
    assert "checks" in detailed.get_json()


@pytest.mark.parametrize("raise_it", [
    lambda: (_ for _ in ()).throw(NotFound("none")),
    lambda: (_ for _ in ()).throw(InvalidTransition("closed", [])),
    lambda: (_ for _ in ()).throw(InvalidInput("bad", [])),
    lambda: __import__("flask_smorest").abort(409, message="冲突"),
    lambda: __import__("flask_smorest").abort(422, message="有误", errors=None),
    lambda: __import__("flask").abort(403),
    lambda: __import__("flask").abort(413),
])
def test_error_bodies_never_carry_null_errors(raise_it):
    """Issue 9 item 9: an error without field errors has no "errors" key at all (the Error schema's errors is
    an object of lists, not nullable); every error body is valid against it."""
    from shared import identity
    from shared.schemas import ErrorSchema

    blp = Blueprint("probe", __name__)

    @blp.route("/probe")
    def probe():
        raise_it()

    identity.public(probe)
    app = create_service_app("probe", settings=Settings(secret_key="k"), title="probe", blueprints=[blp])
    response = app.test_client().get("/probe", headers={"Accept": "application/json"})
    body = response.get_json()
    assert response.status_code >= 400 and body["code"] == response.status_code
    assert "errors" not in body or isinstance(body["errors"], dict) and body["errors"]
    assert ErrorSchema().validate(body) == {}


def test_a_method_not_allowed_keeps_its_allow_header_in_the_one_error_body():
    response = _probe_app().test_client().delete("/probe", headers={"Accept": "application/json"})
    assert response.status_code == 405 and "GET" in response.headers["Allow"]
    assert response.get_json() == {"code": 405, "message": "不支持该请求方法"}
