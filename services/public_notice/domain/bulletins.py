"""通报: the public notice's bulletins of evaluation institutions' misconduct (正文 二(四): "对经核实存在……
违规行为的第三方评估机构和评估人员予以通报，3年内不再采信其绿色矿山评估服务").
Built from review_routing's `misconduct_found` event; the bulletin says who (the institution, its credit code,
the person if any), what (the notice's words for the misconduct, the facts), when it was found and until when the
institution's evaluations are not accepted. Pure: no I/O.
"""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date


def _day(text: str) -> str:
    day = date.fromisoformat(text)
    return f"{day.year}年{day.month}月{day.day}日"


def bulletin_from_misconduct(payload: Mapping, *, event_id: str, published_at) -> dict:
    """The stored 通报 (its id is the finding's: one bulletin per finding, however often the event arrives)."""
    person = payload.get("person")
    subject = payload["institution_name"] + (f"评估人员{person}" if person else "")
    text = (f"经核实，{subject}存在{payload['kind_label']}的违规行为：{payload['facts']}"
            f"{'' if payload['facts'].endswith(('。', '！', '；')) else '。'}"
            f"根据《内蒙古自治区人民政府办公厅关于进一步加强绿色矿山建设的通知》有关规定，现予通报，"
            f"自{_day(payload['found_on'])}起3年内（至{_day(payload['banned_until'])}）不再采信"
            f"{payload['institution_name']}的绿色矿山评估服务。")
    return {"_id": payload["finding_id"], "bulletin_id": payload["finding_id"], "kind": "misconduct",
            "title": f"关于{payload['institution_name']}{payload['kind_label']}的通报",
            "institution_id": payload["institution_id"], "institution_name": payload["institution_name"],
            "credit_code": payload["credit_code"], "person": person, "misconduct": payload["kind"],
            "misconduct_label": payload["kind_label"], "facts": payload["facts"], "found_on": payload["found_on"],
            "banned_until": payload["banned_until"], "document_no": payload.get("document_no"), "text": text,
            "published_at": published_at, "source_event": event_id}
