"""Import upload and the jobs pages, included into the console namespace (``console:job_*``)."""

from django.urls import path

from . import jobs_views as views

urlpatterns = [
    path("imports/new/", views.import_upload, name="import_upload"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("jobs/<int:pk>/progress/", views.job_progress, name="job_progress"),
    path("jobs/<int:pk>/download/", views.job_download, name="job_download"),
    path("jobs/<int:pk>/errors.csv", views.job_errors, name="job_errors"),
]
