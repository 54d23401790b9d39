"""Chat-robot formats and signatures, and the retry schedule (pure functions)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import random
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from manyi.notifications.chatbots import (
    WECOM_MAX_BYTES,
    ChatMessage,
    dingtalk_url,
    feishu_sign,
    message_for,
    reply_error,
)
from manyi.notifications.retry import retry_delay, schedule

MSG = ChatMessage(title="新的回访工单", text="顾客 NPS 2：排队太久了", link="https://cx.example.com/c/1")


def test_a_wecom_message_is_markdown_with_the_title_text_and_link() -> None:
    body = message_for("wecom", MSG)
    assert body == {
        "msgtype": "markdown",
        "markdown": {
            "content": "**新的回访工单**\n\n顾客 NPS 2：排队太久了\n\n[Open](https://cx.example.com/c/1)"
        },
    }


@given(st.text(min_size=0, max_size=3000))
def test_a_wecom_message_never_exceeds_4096_bytes_of_valid_utf8(text: str) -> None:
    content = message_for("wecom", ChatMessage(title="标题", text=text * 2))["markdown"]["content"]
    assert len(content.encode("utf-8")) <= WECOM_MAX_BYTES


def test_a_dingtalk_message_is_markdown_with_a_title() -> None:
    body = message_for("dingtalk", MSG)
    assert body["msgtype"] == "markdown"
    assert body["markdown"]["title"] == "新的回访工单"
    assert "排队太久了" in body["markdown"]["text"]


def test_a_signed_dingtalk_url_carries_the_timestamp_and_the_hmac_of_timestamp_and_secret() -> None:
    secret = "SEC0123456789abcdef"
    url = dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=abc", secret, 1700000000000)
    query = parse_qs(urlsplit(url).query)
    assert query["access_token"] == ["abc"]
    assert query["timestamp"] == ["1700000000000"]
    expected = hmac.new(secret.encode(), b"1700000000000\n" + secret.encode(), hashlib.sha256).digest()
    assert base64.b64decode(query["sign"][0]) == expected


def test_an_unsigned_dingtalk_url_is_left_as_it_is() -> None:
    assert dingtalk_url("https://oapi.dingtalk.com/robot/send?access_token=abc", "", 1) == (
        "https://oapi.dingtalk.com/robot/send?access_token=abc"
    )


def test_a_feishu_message_is_an_interactive_card_signed_in_the_body() -> None:
    body = message_for("feishu", MSG, secret="s3cret", now_s=1700000000.7)
    assert body["msg_type"] == "interactive"
    assert body["card"]["header"]["title"]["content"] == "新的回访工单"
    assert body["card"]["elements"][0]["text"] == {"tag": "lark_md", "content": "顾客 NPS 2：排队太久了"}
    assert body["card"]["elements"][1]["actions"][0]["url"] == "https://cx.example.com/c/1"
    assert body["timestamp"] == "1700000000"
    key = b"1700000000\ns3cret"
    assert body["sign"] == base64.b64encode(hmac.new(key, b"", hashlib.sha256).digest()).decode()
    assert body["sign"] == feishu_sign("s3cret", 1700000000)
    json.dumps(body)  # what is posted


def test_a_feishu_message_without_a_secret_has_no_signature() -> None:
    assert "sign" not in message_for("feishu", MSG)


@pytest.mark.parametrize(
    ("kind", "answer", "error"),
    [
        ("wecom", {"errcode": 0, "errmsg": "ok"}, None),
        ("wecom", {"errcode": 93000, "errmsg": "invalid webhook url"}, "code 93000: invalid webhook url"),
        ("dingtalk", {"errcode": 310000, "errmsg": "sign not match"}, "code 310000: sign not match"),
        ("dingtalk", {"errcode": 0, "errmsg": "ok"}, None),
        ("feishu", {"code": 0, "msg": "success", "data": {}}, None),
        ("feishu", {"code": 19021, "msg": "sign match fail"}, "code 19021: sign match fail"),
        ("feishu", {"StatusCode": 0, "StatusMessage": "success"}, None),
        ("feishu", {"data": {}}, "no error code"),
    ],
)
def test_a_robot_answer_with_a_nonzero_code_is_a_failure(kind: str, answer: dict, error: str | None) -> None:
    result = reply_error(kind, 200, json.dumps(answer).encode())
    if error is None:
        assert result is None
    else:
        assert result is not None and error in result


def test_a_robot_answer_that_is_not_json_is_a_failure() -> None:
    assert "not JSON" in (reply_error("wecom", 200, b"<html>gateway</html>") or "")


def test_an_unknown_robot_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown chat robot kind"):
        message_for("slack", MSG)


@given(
    st.integers(min_value=1, max_value=40),
    st.floats(min_value=1, max_value=3600),
    st.integers(min_value=0, max_value=2**32),
)
def test_a_retry_waits_the_doubling_delay_within_20_percent_jitter_and_never_past_the_cap(
    n: int, base: float, seed: int
) -> None:
    cap = 6 * 3600.0
    nominal = min(cap, base * 2 ** (n - 1))
    delay = retry_delay(n, base, rng=random.Random(seed))
    assert 0.8 * nominal - 1e-9 <= delay <= min(cap, 1.2 * nominal) + 1e-9


def test_the_nominal_schedule_doubles_from_the_base() -> None:
    assert schedule(8, 60) == [60, 120, 240, 480, 960, 1920, 3840]


def test_a_retry_delay_needs_at_least_one_failure() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        retry_delay(0, 60)
