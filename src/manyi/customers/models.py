"""Customers: who answered or complained, with contact preferences."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from manyi.org.scoping import ScopedModel


class Tier(models.TextChoices):
    STANDARD = "standard", _("Standard")
    SILVER = "silver", _("Silver")
    GOLD = "gold", _("Gold")
    PLATINUM = "platinum", _("Platinum")


class Customer(ScopedModel):
    """A customer of the business; read access follows their home unit."""

    scope_unit_field = "home_unit"

    external_id = models.CharField(_("external id"), max_length=128, null=True, blank=True, unique=True)
    name = models.CharField(_("name"), max_length=200, blank=True)
    phone = models.CharField(_("phone (E.164)"), max_length=32, blank=True, db_index=True)
    email = models.EmailField(_("e-mail"), blank=True, db_index=True)
    language = models.CharField(_("language"), max_length=16, blank=True)
    tier = models.CharField(_("tier"), max_length=16, choices=Tier.choices, default=Tier.STANDARD)
    home_unit = models.ForeignKey("org.OrgUnit", on_delete=models.PROTECT, related_name="customers")
    consent_contact = models.BooleanField(_("consents to be contacted"), default=False)
    opted_out = models.BooleanField(_("opted out of surveys"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("customer")
        verbose_name_plural = _("customers")

    def __str__(self) -> str:
        return self.name or self.external_id or f"#{self.pk}"
