"""Phones and e-mail addresses checked by the customers app's normaliser, as import reasons."""

from __future__ import annotations

from manyi.customers.normalize import normalize_email, normalize_phone

from ._errors import Reject


def phone_e164(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except ValueError:
        raise Reject("is not a valid phone number (write it in E.164, e.g. +8613800138000)") from None


def email_normalized(raw: str) -> str:
    try:
        return normalize_email(raw)
    except ValueError:
        raise Reject("is not a valid e-mail address") from None
