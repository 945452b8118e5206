from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts.views import PasskeyPageView
from django_stepup.admin_site import StepUpAdminSite
from example_project.health import HealthView

# The admin login takes password and TOTP code together, counts against the API login's
# throttle and admits only OTP-verified staff: no backdoor around the second factor.
admin.site.__class__ = StepUpAdminSite

handler404 = "dnsapi.exceptions.not_found"
handler500 = "example_project.errors.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/health/", HealthView.as_view(), name="health"),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/schema/ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-ui"),
    path("api/v1/auth/", include("django_stepup.urls")),
    path("api/v1/", include("dnsapi.urls")),
    # Plain JavaScript calling the API: passkey registration, step-up and passkey login.
    path("passkeys/", PasskeyPageView.as_view(), name="passkeys"),
]

if settings.DRF_TOKEN_TWIN:
    from example_project.twin import DRFTokenRead, StepUpRead

    urlpatterns += [
        path("api/v1/twin/stepup/", StepUpRead.as_view()),
        path("api/v1/twin/drf/", DRFTokenRead.as_view()),
    ]
