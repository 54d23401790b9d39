"""Complaint intake: the public complaint form of a store and the staff entry of phone and counter
complaints. Both write a feedback record (channel, customer, unit, category, severity) through the
integrations' ``do_record_feedback``, so the rules run on it after commit like on any other.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from manyi.feedback.choices import FeedbackChannel, Severity
from manyi.org.models import OrgUnit

# What a customer can pick on the public form; staff may type any category.
CATEGORIES: list[tuple[str, Any]] = [
    ("service", _("Service and staff attitude")),
    ("wait_time", _("Waiting time")),
    ("product_quality", _("Product or food quality")),
    ("billing", _("Price, bill or payment")),
    ("cleanliness", _("Cleanliness and environment")),
    ("safety", _("Safety or health")),
    ("delivery", _("Delivery or booking")),
    ("other", _("Something else")),
]
STAFF_CHANNELS = [
    (c.value, c.label)
    for c in (
        FeedbackChannel.PHONE,
        FeedbackChannel.COUNTER,
        FeedbackChannel.EMAIL,
        FeedbackChannel.CALL_NOTE,
        FeedbackChannel.WEB_FORM,
        FeedbackChannel.SOCIAL,
        FeedbackChannel.REVIEW,
    )
]
REF_KIND = "complaint_form"
# Flags of the text models that make a complaint from the public form at least "high".
URGENT_FLAGS = {"safety", "legal"}


class UnitChoiceField(forms.ModelChoiceField):
    """Units listed by their name in the page's language, with the code people type elsewhere."""

    def label_from_instance(self, obj: Any) -> str:
        from django.utils.translation import get_language

        indent = "\u00a0\u00a0" * max(0, obj.depth)
        return f"{indent}{obj.display_name(get_language() or 'zh-hans')} ({obj.code})"


class PublicComplaintForm(forms.Form):
    """What a customer fills in on a phone: what happened, and how to reach them if they want."""

    category = forms.ChoiceField(label=_("What is it about?"), choices=CATEGORIES)
    text = forms.CharField(
        label=_("What happened?"), min_length=5, max_length=4000, widget=forms.Textarea(attrs={"rows": 5})
    )
    name = forms.CharField(label=_("Your name"), max_length=100, required=False)
    phone = forms.CharField(label=_("Phone"), max_length=32, required=False)
    email = forms.EmailField(label=_("E-mail"), max_length=254, required=False)
    contact_ok = forms.BooleanField(label=_("You may contact me about this complaint"), required=False)
    # Left empty by people; filled by bots that fill every field.
    website = forms.CharField(required=False, max_length=200)

    def clean_phone(self) -> str:
        return _phone(self.cleaned_data.get("phone", ""))

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("contact_ok") and not (data.get("phone") or data.get("email")):
            raise ValidationError(
                {"phone": _("Give a phone number or an e-mail address so that we can contact you.")}
            )
        return data


def _phone(value: str) -> str:
    """A phone in E.164, or a form error that says how to write it."""
    from manyi.customers.normalize import normalize_phone

    value = (value or "").strip()
    if not value:
        return ""
    try:
        return normalize_phone(value)
    except ValueError as exc:
        raise ValidationError(str(exc)) from None


def public_severity(category: str, text: str) -> str:
    """Safety complaints and texts that mention harm or legal action start high; others medium."""
    if category == "safety":
        return Severity.HIGH
    from .conditions import analyze_text

    flags = {f.flag for f in analyze_text(text).flags}
    return Severity.HIGH if flags & URGENT_FLAGS else Severity.MEDIUM


@dataclass
class Intake:
    record: Any
    created: bool


def do_record_public_complaint(
    *,
    unit: OrgUnit,
    submission_id: uuid.UUID,
    data: dict[str, Any],
    language: str,
    now: datetime | None = None,
) -> Intake:
    """Store a complaint from the public form exactly once per ``submission_id`` (a double tap, a retry
    or the back button gives the first record back). Raises CustomerRefused for a bad phone."""
    from manyi.core.models import ExternalRef
    from manyi.customers.actions import do_upsert_customer
    from manyi.customers.models import Customer
    from manyi.feedback.models import FeedbackRecord
    from manyi.integrations.actions import do_record_feedback

    ref = ExternalRef.objects.filter(kind=REF_KIND, external_id=str(submission_id)).first()
    if ref is not None:
        return Intake(FeedbackRecord.objects.get(pk=ref.object_id), False)
    now = now or timezone.now()
    try:
        with transaction.atomic():
            customer = None
            phone, email = data.get("phone") or None, data.get("email") or None
            if data.get("contact_ok") and (phone or email):
                values: dict[str, Any] = {"consent_contact": True, "language": language}
                if data.get("name"):
                    values["name"] = data["name"]
                customer = do_upsert_customer(
                    visible=Customer.objects.filter(home_unit=unit),
                    phone=phone,
                    email=email,
                    home_unit=unit,
                    values=values,
                ).customer
            record = do_record_feedback(
                unit=unit,
                channel=FeedbackChannel.WEB_FORM,
                occurred_at=now,
                text=data["text"],
                customer=customer,
                touchpoint="complaint_form",
                category=data["category"],
                severity=public_severity(data["category"], data["text"]),
                language=language,
            )
            ExternalRef.objects.create(kind=REF_KIND, external_id=str(submission_id), object_id=record.pk)
    except IntegrityError:
        ref = ExternalRef.objects.filter(kind=REF_KIND, external_id=str(submission_id)).first()
        if ref is None:
            raise
        return Intake(FeedbackRecord.objects.get(pk=ref.object_id), False)
    return Intake(record, True)


class StaffComplaintForm(forms.Form):
    """A complaint taken by phone or at the counter, typed in by a staff member."""

    unit = UnitChoiceField(label=_("Unit"), queryset=OrgUnit.objects.none(), empty_label="—")
    channel = forms.ChoiceField(label=_("Channel"), choices=STAFF_CHANNELS, initial=FeedbackChannel.PHONE)
    category = forms.CharField(
        label=_("Category"),
        max_length=64,
        help_text=_("e.g. wait_time, service, billing, safety"),
    )
    severity = forms.ChoiceField(label=_("Severity"), choices=Severity.choices, initial=Severity.MEDIUM)
    occurred_at = forms.DateTimeField(
        label=_("When it happened"),
        required=False,
        help_text=_("Leave empty for now."),
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
    )
    text = forms.CharField(
        label=_("What the customer said"), max_length=20000, widget=forms.Textarea(attrs={"rows": 6})
    )
    rating = forms.FloatField(label=_("Rating (0–10)"), required=False, min_value=0, max_value=10)
    customer_phone = forms.CharField(label=_("Customer's phone"), max_length=32, required=False)
    customer_email = forms.EmailField(label=_("Customer's e-mail"), required=False)
    customer_name = forms.CharField(label=_("Customer's name"), max_length=100, required=False)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        field = self.fields["unit"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = OrgUnit.objects.visible_to(user).filter(is_active=True).order_by("path")

    def clean_customer_phone(self) -> str:
        return _phone(self.cleaned_data.get("customer_phone", ""))

    def clean_occurred_at(self) -> datetime:
        value = self.cleaned_data.get("occurred_at")
        now = timezone.now()
        if value is None:
            return now
        if value > now + timedelta(minutes=5):
            raise ValidationError(_("This time is in the future."))
        return value


def do_record_staff_complaint(*, form: StaffComplaintForm, language: str) -> Any:
    """Store a complaint a staff member took; the customer is found or created among those the staff
    member can see. Raises CustomerRefused for a bad phone or e-mail."""
    from manyi.customers.actions import do_upsert_customer
    from manyi.customers.models import Customer
    from manyi.customers.normalize import normalize_email, normalize_phone
    from manyi.integrations.actions import do_record_feedback

    d = form.cleaned_data
    unit = d["unit"]
    with transaction.atomic():
        customer = None
        phone, email = d.get("customer_phone") or None, d.get("customer_email") or None
        if phone or email:
            # A known customer keeps their home unit; an unknown one is created at this unit.
            visible = Customer.objects.visible_to(form.user)
            known = visible.filter(phone=normalize_phone(phone)).first() if phone else None
            if known is None and email:
                known = visible.filter(email=normalize_email(email)).first()
            values = {"name": d["customer_name"]} if d.get("customer_name") and known is None else {}
            customer = (
                known
                or do_upsert_customer(
                    visible=visible, phone=phone, email=email, home_unit=unit, values=values
                ).customer
            )
        return do_record_feedback(
            unit=unit,
            channel=d["channel"],
            occurred_at=d["occurred_at"],
            text=d["text"],
            customer=customer,
            touchpoint="staff_entry",
            category=d["category"].strip(),
            severity=d["severity"],
            rating=d.get("rating"),
            language=language,
        )
