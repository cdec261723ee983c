"""The publicly verifiable draws of the region stage (`DrawRecord`, `sha256-rank-v1`): what every drawing handler
shares (the value entered at draw time, the stored moment, a replay, the published event) and the public reads
(`GET /api/v1/evaluation/draws[/{id}]`, no sign-in)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from review_routing.adapters.events import iso
from review_routing.domain.errors import FieldError, InvalidInput, InvalidTransition, NotFound
from review_routing.domain.region.draws import PURPOSES, DrawRecord
from review_routing.service_layer.region.reviews import PRODUCER, TOPIC
from review_routing.service_layer.unit_of_work import ReviewUnitOfWork
from shared.contracts import new_event

MAX_ENTERED = 200
MAX_LIMIT = 200


@dataclass(frozen=True)
class ListDraws:
    limit: int = 20
    offset: int = 0
    purpose: str | None = None


@dataclass(frozen=True)
class ShowDraw:
    draw_id: str



def entered_value(value: str) -> str:
    text = (value or "").strip()
    if not text or len(text) > MAX_ENTERED:
        raise InvalidInput("抽取输入值有误", [FieldError(
            "entered_value", f"请在抽取时输入一个值（不超过 {MAX_ENTERED} 字），它与抽取范围共同决定随机种子")])
    return text


def stored_precision(at: datetime) -> datetime:
    """A draw's moment as MongoDB keeps it (milliseconds), so that a replay answers exactly the first answer."""
    return at.replace(microsecond=at.microsecond // 1000 * 1000)


def replayed(record: DrawRecord, entered: str) -> dict:
    if record.entered_value != entered:
        raise InvalidTransition(f"已于 {iso(record.drawn_at)} 公开抽取（抽取记录 {record.draw_id}），不能重新抽取")
    return record.public()


def publish_draw(uow: ReviewUnitOfWork, record: DrawRecord, at: datetime) -> None:
    uow.publish(new_event("review_routing.draw_published", producer=PRODUCER, aggregate_type="draw",
                          aggregate_id=record.draw_id, aggregate_version=record.version or 1, payload={
                              "draw_id": record.draw_id, "purpose": record.purpose, "title": record.title,
                              "algorithm": record.algorithm, "k": len(record.selected),
                              "population_size": len(record.population), "ratio": record.ratio,
                              "count": record.count, "seed": record.seed,
                              "round_id": record.context.get("round_id"),
                              "department": record.context.get("department"),
                              "drawn_at": iso(record.drawn_at), "url": f"/evaluation/draws/{record.draw_id}"},
                          occurred_at=at), topic=TOPIC)


# -- the public reads -------------------------------------------------------------------------------------------
def list_draws(cmd: ListDraws, uow: ReviewUnitOfWork) -> dict:
    errors = []
    if not 1 <= cmd.limit <= MAX_LIMIT:
        errors.append(FieldError("limit", f"每页条数应为 1 至 {MAX_LIMIT}"))
    if cmd.offset < 0:
        errors.append(FieldError("offset", "偏移量不能为负数"))
    if cmd.purpose is not None and cmd.purpose not in PURPOSES:
        errors.append(FieldError("purpose", "应为 " + "、".join(f"{k}（{v}）" for k, v in PURPOSES.items())))
    if errors:
        raise InvalidInput("查询条件有误", errors)
    filters = {"purpose": cmd.purpose} if cmd.purpose else {}
    records = uow.read(lambda: uow.draws.find(sort="drawn_at", descending=True, **filters))
    page = records[cmd.offset: cmd.offset + cmd.limit]
    return {"total": len(records), "limit": cmd.limit, "offset": cmd.offset,
            "items": [{k: v for k, v in r.public().items() if k not in ("population", "labels", "excluded")}
                      | {"population_size": len(r.population)} for r in page]}


def show_draw(cmd: ShowDraw, uow: ReviewUnitOfWork) -> dict:
    record = uow.read(lambda: uow.draws.get(cmd.draw_id))
    if record is None:
        raise NotFound(f"没有抽取记录 {cmd.draw_id}")
    return record.public()


COMMAND_HANDLERS = {
    ListDraws: list_draws,
    ShowDraw: show_draw,
}
EVENT_HANDLERS: dict = {}
