"""Chat-group robot messages: WeCom (企业微信), DingTalk (钉钉) and Feishu (飞书).

Pure Python, no Django. Each robot takes a JSON POST to its webhook URL and answers JSON whose
error code is 0 on success, even when the HTTP status is 200 on failure, so :func:`reply_error` reads it.

- WeCom group robot: ``{"msgtype": "markdown", "markdown": {"content": …}}`` (content ≤ 4096 bytes),
  answer ``{"errcode": 0, "errmsg": "ok"}``.
- DingTalk custom robot: ``{"msgtype": "markdown", "markdown": {"title": …, "text": …}}``; with a
  signing secret ("加签"), ``timestamp`` (ms) and ``sign`` query parameters, where
  ``sign = base64(HMAC-SHA256(key=secret, msg=f"{timestamp}\\n{secret}"))``; answer ``errcode``.
- Feishu custom bot: ``{"msg_type": "interactive", "card": …}`` (or ``"text"``); with a signing secret,
  ``timestamp`` (s) and ``sign`` in the body, where
  ``sign = base64(HMAC-SHA256(key=f"{timestamp}\\n{secret}", msg=b""))``; answer ``code`` (older
  deployments ``StatusCode``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote_plus, urlsplit, urlunsplit

__all__ = [
    "ChatMessage",
    "dingtalk_sign",
    "dingtalk_url",
    "feishu_sign",
    "message_for",
    "reply_error",
]

WECOM_MAX_BYTES = 4096
DINGTALK_MAX_CHARS = 5000
FEISHU_MAX_CHARS = 8000


@dataclass(frozen=True)
class ChatMessage:
    """What a robot shows: a title, Markdown lines and an optional link."""

    title: str
    text: str
    link: str = ""
    link_label: str = "Open"

    def markdown(self) -> str:
        parts = [f"**{self.title}**", self.text.strip()]
        if self.link:
            parts.append(f"[{self.link_label}]({self.link})")
        return "\n\n".join(p for p in parts if p)


def _cut_bytes(text: str, limit: int) -> str:
    data = text.encode("utf-8")
    if len(data) <= limit:
        return text
    return data[: limit - 3].decode("utf-8", errors="ignore") + "…"


def _cut_chars(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk's ``sign`` (before URL-encoding) for a timestamp in milliseconds."""
    to_sign = f"{timestamp_ms}\n{secret}".encode()
    digest = hmac.new(secret.encode(), to_sign, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def dingtalk_url(url: str, secret: str, timestamp_ms: int) -> str:
    """The robot URL with ``timestamp`` and ``sign`` appended when a signing secret is set."""
    if not secret:
        return url
    parts = urlsplit(url)
    extra = f"timestamp={timestamp_ms}&sign={quote_plus(dingtalk_sign(secret, timestamp_ms))}"
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def feishu_sign(secret: str, timestamp_s: int) -> str:
    """Feishu's ``sign`` for a timestamp in seconds (the key is the string to sign; the message is empty)."""
    key = f"{timestamp_s}\n{secret}".encode()
    return base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()


def message_for(kind: str, message: ChatMessage, *, secret: str = "", now_s: float = 0.0) -> dict[str, Any]:
    """The JSON body a ``wecom``, ``dingtalk`` or ``feishu`` robot expects for ``message``."""
    if kind == "wecom":
        return {
            "msgtype": "markdown",
            "markdown": {"content": _cut_bytes(message.markdown(), WECOM_MAX_BYTES)},
        }
    if kind == "dingtalk":
        return {
            "msgtype": "markdown",
            "markdown": {
                "title": _cut_chars(message.title, 100),
                "text": _cut_chars(message.markdown(), DINGTALK_MAX_CHARS),
            },
        }
    if kind == "feishu":
        elements: list[dict[str, Any]] = [
            {"tag": "div", "text": {"tag": "lark_md", "content": _cut_chars(message.text, FEISHU_MAX_CHARS)}}
        ]
        if message.link:
            elements.append(
                {
                    "tag": "action",
                    "actions": [
                        {
                            "tag": "button",
                            "text": {"tag": "plain_text", "content": message.link_label},
                            "type": "primary",
                            "url": message.link,
                        }
                    ],
                }
            )
        body: dict[str, Any] = {
            "msg_type": "interactive",
            "card": {
                "config": {"wide_screen_mode": True},
                "header": {"title": {"tag": "plain_text", "content": _cut_chars(message.title, 100)}},
                "elements": elements,
            },
        }
        if secret:
            ts = int(now_s)
            body = {"timestamp": str(ts), "sign": feishu_sign(secret, ts), **body}
        return body
    raise ValueError(f"unknown chat robot kind {kind!r}; expected wecom, dingtalk or feishu")


def reply_error(kind: str, status: int, body: bytes) -> str | None:
    """Why the robot refused the message, or None when it accepted it."""
    if not 200 <= status < 300:
        return None  # the HTTP status already says it; the caller reports it
    try:
        data = json.loads(body.decode("utf-8") or "null")
    except (UnicodeDecodeError, ValueError):
        return f"the robot answered {status} with a body that is not JSON: {body[:200]!r}"
    if not isinstance(data, dict):
        return f"the robot answered {status} with unexpected JSON: {str(data)[:200]}"
    if kind in ("wecom", "dingtalk"):
        code, text = data.get("errcode"), data.get("errmsg", "")
    elif kind == "feishu":
        code = data.get("code", data.get("StatusCode"))
        text = data.get("msg", data.get("StatusMessage", ""))
    else:
        raise ValueError(f"unknown chat robot kind {kind!r}")
    if code is None:
        return f"the robot's answer has no error code: {str(data)[:200]}"
    if code != 0:
        return f"the robot refused the message: code {code}: {text}"
    return None
