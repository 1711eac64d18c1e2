"""The API's routes, mounted at /api/v1/ (evidencepress/urls.py)."""

from django.urls import path, re_path

from . import views

app_name = "evidence_api"

urlpatterns = [
    path("topics/", views.topic_list, name="topics"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic"),
    path("topics/<slug:slug>/cases/", views.case_list, name="cases"),
    path("openapi.json", views.openapi, name="openapi"),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not_found"),  # keep last
]
