"""Contact details in one canonical form: phones in E.164, e-mail addresses normalised.

Both raise ``ValueError`` with a message a person can act on; callers add the field name.
"""

from __future__ import annotations

import phonenumbers
from django.utils.translation import gettext as _
from email_validator import EmailNotValidError, validate_email

DEFAULT_REGION = "CN"


def normalize_phone(value: str, region: str = DEFAULT_REGION) -> str:
    """``"138 0013 8000"`` -> ``"+8613800138000"``; numbers without a country code are read in ``region``."""
    text = value.strip()
    if not text:
        raise ValueError(_("The phone number is empty."))
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValueError(_("“{value}” is not a phone number.").format(value=value)) from exc
    if not phonenumbers.is_valid_number(number):
        raise ValueError(
            _("“{value}” is not a valid phone number (write it in E.164, e.g. +8613800138000).").format(
                value=value
            )
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalize_email(value: str) -> str:
    """A syntactically valid address with its domain lower-cased; no DNS look-up."""
    text = value.strip()
    if not text:
        raise ValueError(_("The e-mail address is empty."))
    try:
        result = validate_email(text, check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValueError(
            _("“{value}” is not a valid e-mail address: {reason}").format(value=value, reason=exc)
        ) from exc
    if len(result.normalized) > 254:
        raise ValueError(_("The e-mail address is longer than 254 characters."))
    return str(result.normalized)
