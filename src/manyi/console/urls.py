"""Staff console URLs; every one is listed in tests/console/test_scoping.py with ids to probe."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

from . import responses_views, views

app_name = "console"
urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="console/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("", views.home, name="home"),
    path("units/", views.unit_list, name="unit_list"),
    path("units/pick/", views.unit_picker, name="unit_picker"),
    path("units/<int:pk>/", views.unit_detail, name="unit_detail"),
    path("surveys/", views.survey_list, name="survey_list"),
    path("surveys/<int:pk>/", views.survey_detail, name="survey_detail"),
    path(
        "surveys/<int:pk>/links/<int:link_pk>/qr.svg",
        views.survey_link_qr,
        {"fmt": "svg"},
        name="survey_link_qr_svg",
    ),
    path(
        "surveys/<int:pk>/links/<int:link_pk>/qr.png",
        views.survey_link_qr,
        {"fmt": "png"},
        name="survey_link_qr_png",
    ),
    path("responses/", responses_views.response_list, name="response_list"),
    path("responses/columns/", responses_views.response_columns, name="response_columns"),
    path("responses/export/", responses_views.response_export, name="response_export"),
    path("responses/<int:pk>/", responses_views.response_detail, name="response_detail"),
    path("feedback/", views.feedback_list, name="feedback_list"),
    path("feedback/<int:pk>/", views.feedback_detail, name="feedback_detail"),
    path("cases/", include("manyi.console.urls_cases")),
    path("customers/<int:pk>/", views.customer_detail, name="customer_detail"),
    path("", include("manyi.console.urls_drivers")),
    path("", include("manyi.console.urls_builder")),
    path("", include("manyi.console.urls_jobs")),
    path("notifications/", include("manyi.console.urls_notifications")),
    path("", include("manyi.console.urls_rules")),
]
