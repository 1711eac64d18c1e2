from django.urls import path

from . import views

app_name = "summaries"

urlpatterns = [
    path("request/", views.request_form, name="request"),
    path("request/sent/", views.request_sent, name="request_sent"),
    path("withdraw/<str:token>/", views.withdraw, name="withdraw"),
]
