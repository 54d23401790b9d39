"""URLs of the Drivers page, added to the console namespace by ``console/urls.py``."""

from django.urls import path

from . import drivers_views

urlpatterns = [
    path("drivers/", drivers_views.drivers_index, name="drivers_index"),
    path("surveys/<int:pk>/drivers/", drivers_views.survey_drivers, name="survey_drivers"),
]
