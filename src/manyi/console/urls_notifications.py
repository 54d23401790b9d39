"""Console URLs of notifications (included from ``console/urls.py`` under the console namespace)."""

from django.urls import path

from . import notifications_views as v

urlpatterns = [
    path("", v.notification_list, name="notification_list"),
    path("dead/", v.dead_letter_list, name="notification_dead_letters"),
    path("<int:pk>/", v.notification_detail, name="notification_detail"),
    path("<int:pk>/replay/", v.notification_replay, name="notification_replay"),
    path("endpoints/", v.endpoint_list, name="notification_endpoints"),
    path("endpoints/new/", v.endpoint_create, name="notification_endpoint_create"),
    path("endpoints/<int:pk>/", v.endpoint_detail, name="notification_endpoint_detail"),
    path("endpoints/<int:pk>/test/", v.endpoint_test, name="notification_endpoint_test"),
    path("endpoints/<int:pk>/rotate/", v.endpoint_rotate, name="notification_endpoint_rotate"),
]
