from django.db import models
from django.utils.translation import gettext_lazy as _


class SegmentBy(models.TextChoices):
    NONE = "none", _("No segments")
    TIER = "tier", _("Customer tier")
    REGION = "region", _("Region")
    CHANNEL = "channel", _("Channel")


class AnalysisStatus(models.TextChoices):
    OK = "ok", _("Analysed")
    NO_MATRIX = "no_matrix", _("No rating matrix")
    NO_OUTCOME = "no_outcome", _("No overall question")
    TOO_FEW = "too_few", _("Too few responses")
    UNANALYSABLE = "unanalysable", _("Cannot be analysed")
