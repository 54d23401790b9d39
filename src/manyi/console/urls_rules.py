"""Console URLs of rules and complaint intake (included from ``console/urls.py``, console namespace)."""

from django.urls import path

from . import rules_views as v

urlpatterns = [
    path("rules/", v.rule_list, name="rule_list"),
    path("rules/new/", v.rule_create, name="rule_create"),
    path("rules/<int:pk>/", v.rule_detail, name="rule_detail"),
    path("complaints/new/", v.complaint_create, name="complaint_create"),
    path("complaints/forms/", v.complaint_links, name="complaint_links"),
    path("units/<int:pk>/complaint-qr.svg", v.complaint_qr, {"fmt": "svg"}, name="complaint_qr_svg"),
    path("units/<int:pk>/complaint-qr.png", v.complaint_qr, {"fmt": "png"}, name="complaint_qr_png"),
]
