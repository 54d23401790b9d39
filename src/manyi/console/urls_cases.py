"""Console URLs of cases (included from ``console/urls.py`` at ``cases/``, in the console namespace)."""

from django.urls import path

from . import cases_views as v

urlpatterns = [
    path("", v.case_list, name="case_list"),
    path("bulk-assign/", v.case_bulk_assign, name="case_bulk_assign"),
    path("<int:pk>/", v.case_detail, name="case_detail"),
    path("sla/", v.case_sla_list, name="case_sla_list"),
    path("sla/new/", v.case_sla_create, name="case_sla_create"),
    path("sla/<int:pk>/", v.case_sla_edit, name="case_sla_edit"),
    path("root-causes/", v.case_root_causes, name="case_root_causes"),
    path("calendars/<int:unit_pk>/", v.case_calendar, name="case_calendar"),
    path("holidays/", v.case_holidays, name="case_holidays"),
    path("metrics/", v.case_metrics, name="case_metrics"),
]
