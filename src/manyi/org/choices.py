from django.db import models
from django.utils.translation import gettext_lazy as _


class UnitKind(models.TextChoices):
    COMPANY = "company", _("Company")
    REGION = "region", _("Region")
    CITY = "city", _("City")
    STORE = "store", _("Store")
    TEAM = "team", _("Team")


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    CX_MANAGER = "cx_manager", _("CX manager")
    UNIT_MANAGER = "unit_manager", _("Unit manager")
    AGENT = "agent", _("Agent")
    ANALYST = "analyst", _("Analyst")
    VIEWER = "viewer", _("Viewer")
