"""Events, channels and delivery states of notifications."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class EventType(models.TextChoices):
    """Every event type a notification or an endpoint subscription can name (documented in docs/notifications.md)."""

    CASE_OPENED = "case.opened", _("Case opened")
    CASE_ASSIGNED = "case.assigned", _("Case assigned")
    CASE_ESCALATED = "case.escalated", _("Case escalated (SLA)")
    CASE_RESOLVED = "case.resolved", _("Case resolved")
    CASE_CLOSED = "case.closed", _("Case closed")
    CASE_REOPENED = "case.reopened", _("Case reopened")
    RESPONSE_DETRACTOR = "response.detractor", _("Detractor response")
    FEEDBACK_COMPLAINT = "feedback.complaint", _("Complaint received")
    RULE_MATCHED = "rule.matched", _("Rule matched")
    ENDPOINT_TEST = "endpoint.test", _("Test event")


class EndpointKind(models.TextChoices):
    """The format an endpoint receives: a signed Standard Webhooks POST or a chat-group robot message."""

    WEBHOOK = "webhook", _("Webhook (Standard Webhooks, signed)")
    WECOM = "wecom", _("WeCom group robot (企业微信)")
    DINGTALK = "dingtalk", _("DingTalk custom robot (钉钉)")
    FEISHU = "feishu", _("Feishu custom bot (飞书)")


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    WEBHOOK = "webhook", _("Webhook")
    WECOM = "wecom", _("WeCom")
    DINGTALK = "dingtalk", _("DingTalk")
    FEISHU = "feishu", _("Feishu")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    RETRYING = "retrying", _("Waiting to retry")
    DELIVERED = "delivered", _("Delivered")
    DEAD = "dead", _("Dead letter")
    SKIPPED = "skipped", _("Skipped")


class AttemptOutcome(models.TextChoices):
    OK = "ok", _("Delivered")
    ERROR = "error", _("Failed")


# Notifications a worker may pick up (when due).
DUE_STATUSES = (DeliveryStatus.PENDING, DeliveryStatus.RETRYING)
