"""Phone numbers to E.164 and e-mail addresses normalised, for the customer import.

Kept here until customers get their own normaliser; the rules are the same: mainland China is the
default region for numbers without a country code, and e-mail domains are not looked up.
"""

from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email

from ._errors import Reject


def phone_e164(raw: str, region: str = "CN") -> str:
    try:
        number = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        raise Reject("is not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise Reject("is not a valid phone number")
    return str(phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164))


def email_normalized(raw: str) -> str:
    try:
        return str(validate_email(raw, check_deliverability=False).normalized)
    except EmailNotValidError as exc:
        raise Reject(f"is not a valid e-mail address ({exc})") from None
