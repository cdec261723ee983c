"""The emails' words: a notification for a staff member, the subscription's confirmation, and the
announcement / 公示 emails to subscribers (each with its one-click unsubscribe link and `List-Unsubscribe`
headers, RFC 8058). Pure: each function gives the delivery's `message` {to, subject, text, headers?}."""
from __future__ import annotations

from collections.abc import Mapping

from public_notice.domain.notifications.audiences import cn_date
from public_notice.domain.notifications.subscriptions import TOPICS

PLATFORM = "内蒙古自治区绿色矿山管理平台"
FOOTER = f"\n\n——\n{PLATFORM}\n本邮件由系统自动发送，请勿直接回复。"


def _url(public_url: str, path: str) -> str:
    if not path:
        return ""
    return path if path.startswith(("http://", "https://")) else public_url.rstrip("/") + path


def inbox_email(*, to: str, display_name: str, title: str, text: str, link: str, public_url: str) -> dict:
    """A staff member's notification, also by email."""
    url = _url(public_url, link)
    body = f"{display_name or '您好'}：\n\n{text}"
    if url:
        body += f"\n\n查看详情：{url}"
    body += f"\n\n您也可以登录平台，在“消息通知”（{_url(public_url, '/notice/inbox')}）中查看全部通知。" + FOOTER
    return {"to": to, "subject": f"【绿色矿山】{title}", "text": body}


def confirmation_email(*, to: str, topics: list[str], confirm_url: str) -> dict:
    names = "、".join(TOPICS.get(t, t) for t in topics)
    body = (f"您好：\n\n有人（希望是您本人）使用此邮箱地址订阅了{PLATFORM}的“{names}”邮件提醒。\n\n"
            f"请打开以下链接确认订阅（7日内有效）：\n{confirm_url}\n\n"
            "如果不是您本人操作，请忽略本邮件：未经确认，我们不会再向您发送任何邮件。" + FOOTER)
    return {"to": to, "subject": "【绿色矿山】请确认您的邮件订阅", "text": body}


def unsubscribe_headers(unsubscribe_url: str) -> dict:
    return {"List-Unsubscribe": f"<{unsubscribe_url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}


def _with_unsubscribe(text: str, unsubscribe_url: str) -> str:
    return (text + f"\n\n您收到本邮件是因为订阅了{PLATFORM}的邮件提醒。"
            f"如不再需要，打开以下链接即可退订（一次点击即生效）：\n{unsubscribe_url}" + FOOTER)


def announcement_email(*, to: str, payload: Mapping, page_url: str, unsubscribe_url: str) -> dict:
    """`public_notice.announcement_published` to a subscriber of the announcements."""
    number = payload.get("number") or ""
    title = payload.get("title") or "绿色矿山名录公告"
    published = cn_date(payload.get("published_on") or payload.get("published_at"))
    text = (f"您好：\n\n{PLATFORM}于{published}发布了{title}" + (f"（{number}）" if number else "") + "。"
            + (f"\n本公告涉及{payload['item_count']}项。" if payload.get("item_count") else "")
            + f"\n\n公告全文：{page_url}")
    return {"to": to, "subject": f"【绿色矿山】{title}" + (f" {number}" if number else ""),
            "text": _with_unsubscribe(text, unsubscribe_url), "headers": unsubscribe_headers(unsubscribe_url)}


def publicity_email(*, to: str, payload: Mapping, page_url: str, unsubscribe_url: str) -> dict:
    """`public_notice.publicity_published` to a subscriber of the 公示."""
    title = payload.get("title") or "绿色矿山拟纳入名录公示"
    start = cn_date(payload.get("window_start") or payload.get("starts_on"))
    end = cn_date(payload.get("window_end") or payload.get("ends_on"))
    window = f"公示期为{start}至{end}。" if start and end else ""
    count = payload.get("mine_count") or payload.get("item_count")
    text = (f"您好：\n\n{PLATFORM}发布了{title}。" + (f"本批公示矿山{count}座。" if count else "") + window
            + "\n公示期间，对公示内容有异议的，可通过公示页面实名提出。"
            + f"\n\n公示全文：{page_url}")
    return {"to": to, "subject": f"【绿色矿山】{title}", "text": _with_unsubscribe(text, unsubscribe_url),
            "headers": unsubscribe_headers(unsubscribe_url)}
