from django.urls import path

from . import views

app_name = "responses"
urlpatterns = [
    path("<str:token>", views.survey_page, name="survey"),
    path("<str:token>/draft", views.save_draft, name="draft"),
    path("<str:token>/thanks/<str:sid>", views.thanks, name="thanks"),
]
