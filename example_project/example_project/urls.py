from django.contrib import admin
from django.urls import include, path

from accounts.views import PasskeyPageView
from django_stepup.admin_site import StepUpAdminSite

# The admin login takes password and TOTP code together, counts against the API login's
# throttle and admits only OTP-verified staff: no backdoor around the second factor.
admin.site.__class__ = StepUpAdminSite

handler404 = "dnsapi.exceptions.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/auth/", include("django_stepup.urls")),
    path("api/v1/", include("dnsapi.urls")),
    # Plain JavaScript calling the API: passkey registration, step-up and passkey login.
    path("passkeys/", PasskeyPageView.as_view(), name="passkeys"),
]
