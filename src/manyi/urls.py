"""URL map: public survey pages under /s/, the staff console at the root."""

from django.urls import include, path

from manyi.core import views as core_views
from manyi.integrations.api import api

handler400 = "manyi.core.views.bad_request"
handler403 = "manyi.core.views.permission_denied"
handler404 = "manyi.core.views.page_not_found"
handler500 = "manyi.core.views.server_error"

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("s/", include("manyi.responses.urls")),
    path("c/", include("manyi.rules.urls_public")),
    path("api/v1/", api.urls),
    path("", include("manyi.console.urls")),
]
