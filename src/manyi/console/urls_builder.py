"""Survey builder URLs, included into the console namespace (``console:builder_*``)."""

from django.urls import path

from . import builder_views as views

urlpatterns = [
    path("surveys/new/", views.builder_new, name="builder_new"),
    path("surveys/<int:pk>/build/", views.builder_edit, name="builder_edit"),
    path("surveys/<int:pk>/build/questions/<slug:code>/", views.builder_question, name="builder_question"),
    path("surveys/<int:pk>/build/preview/", views.builder_preview, name="builder_preview"),
    path("surveys/<int:pk>/build/publish/", views.builder_publish, name="builder_publish"),
    path("surveys/<int:pk>/distribute/", views.builder_distribute, name="builder_distribute"),
    path("surveys/<int:pk>/qr-sheet.pdf", views.builder_qr_sheet, name="builder_qr_sheet"),
]
