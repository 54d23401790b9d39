"""Public complaint pages under /c/: one form per org unit, reached by its QR code."""

from django.urls import path

from . import complaint_views

app_name = "complaints"
urlpatterns = [
    path("<slug:code>", complaint_views.complaint_page, name="form"),
    path("<slug:code>/thanks", complaint_views.complaint_thanks, name="thanks"),
]
