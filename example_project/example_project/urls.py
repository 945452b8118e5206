from django.contrib import admin
from django.urls import include, path
from django_otp.admin import OTPAdminSite

# The admin asks for a TOTP code at login and admits only OTP-verified staff, so it is
# no backdoor around the second factor the API enforces.
admin.site.__class__ = OTPAdminSite

handler404 = "dnsapi.exceptions.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/auth/", include("django_stepup.urls")),
    path("api/v1/", include("dnsapi.urls")),
]
