from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from django_stepup.admin_site import StepUpAdminSite

# The admin login takes password and TOTP code together, counts against the API login's
# throttle and admits only OTP-verified staff: no backdoor around the second factor.
admin.site.__class__ = StepUpAdminSite

handler404 = "dnsapi.exceptions.not_found"
handler500 = "dnsapi.exceptions.server_error"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/v1/schema/ui/", SpectacularSwaggerView.as_view(url_name="schema"), name="schema-ui"),
    path("api/v1/auth/", include("django_stepup.urls")),
    path("api/v1/", include("dnsapi.urls")),
]
