from django.db import models
from django.utils.translation import gettext_lazy as _


class Channel(models.TextChoices):
    LINK = "link", _("Web link")
    QR = "qr", _("QR code")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WIDGET = "widget", _("Embedded widget")
    API = "api", _("API")
    IMPORT = "import", _("Import")
