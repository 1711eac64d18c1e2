"""Second-factor pages for staff, mounted under /admin/otp/ (before Wagtail's admin URLs)."""

from django.urls import path

from . import views

app_name = "core"

urlpatterns = [
    path("verify/", views.otp_verify, name="otp_verify"),
    path("setup/", views.otp_setup, name="otp_setup"),
    path("setup/qr.svg", views.otp_setup_qr, name="otp_setup_qr"),
]
