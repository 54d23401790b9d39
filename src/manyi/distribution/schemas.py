"""API shapes for service events and their decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Schema
from pydantic import ConfigDict, Field

from manyi.integrations.schemas import IsoDateTime


class ServiceEventIn(Schema):
    """A service event from a POS, CRM, helpdesk or order system."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=1, max_length=64, examples=["pos"])
    external_id: str = Field(min_length=1, max_length=128, examples=["ORD-2026-000123"])
    type: str = Field(min_length=1, max_length=64, examples=["checkout"])
    unit: str = Field(min_length=1, max_length=64, description="Org unit code.", examples=["sh-001"])
    customer_external_id: str = Field(min_length=1, max_length=128)
    occurred_at: IsoDateTime = Field(
        description="RFC 3339 with a UTC offset, e.g. 2026-11-23T14:05:00+08:00."
    )
    preferred_channel: Literal["email", "sms"] | None = None
    attributes: dict[str, Any] = Field(default_factory=dict)


class DecisionOut(Schema):
    id: int
    decided_at: datetime
    outcome: str
    reason: str
    message: str
    rule: str
    invitation_id: int | None
    params: dict[str, Any]


class ServiceEventOut(Schema):
    id: int
    source: str
    external_id: str
    type: str
    unit: str
    customer_external_id: str | None
    occurred_at: datetime
    received_at: datetime
    created: bool
    decisions: list[DecisionOut]
