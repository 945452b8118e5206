from django.contrib import admin
from django.urls import include, path
from rest_framework.routers import SimpleRouter

from django_stepup.admin_site import StepUpAdminSite
from tests.testapp import views

router = SimpleRouter()
router.register("records", views.RecordViewSet, basename="record")
router.register("writable-records", views.WritableRecordViewSet, basename="writable-record")
router.register("private-records", views.PrivateRecordViewSet, basename="private-record")
router.register("override-records", views.HostOverridesRecordViewSet, basename="override-record")
router.register(
    "override-private-records",
    views.HostOverridesPrivateRecordViewSet,
    basename="override-private-record",
)
router.register("list-records", views.ListRecordViewSet, basename="list-record")
router.register("label-records", views.LabelRecordViewSet, basename="label-record")
router.register("manual-records", views.ManualRecordViewSet, basename="manual-record")
router.register("zones", views.ZoneViewSet, basename="zone")

urlpatterns = [
    path("admin/", admin.site.urls),
    # The app's admin site, with no models: its login and access rule are what is tested.
    path("stepup-admin/", StepUpAdminSite(name="stepupadmin").urls),
    path("auth/", include("django_stepup.urls")),
    path("whoami/", views.WhoAmIView.as_view()),
    path("account/", views.AccountView.as_view()),
    path("guarded/create-domain/", views.CreateDomainFlagView.as_view()),
    path("guarded/mfa/", views.MFAView.as_view()),
    path("guarded/recent/", views.RecentMFAView.as_view()),
    path("guarded/phr/", views.PhishingResistantView.as_view()),
    path("guarded/phr-recent/", views.PhishingResistantRecentView.as_view()),
    path("guarded/phr-if-enrolled/", views.PhishingResistantIfEnrolledView.as_view()),
    path("guarded/recent-default/", views.RecentMFADefaultView.as_view()),
    path("guarded/recent-zero/", views.RecentMFAZeroView.as_view()),
    path("guarded/recent-zero-attribute/", views.RecentMFAZeroAttributeView.as_view()),
    path("guarded/recent-attribute/", views.RecentMFAViewAttribute.as_view()),
    path("guarded/login-token/", views.LoginTokenView.as_view()),
    path("guarded/api-token/", views.APITokenView.as_view()),
    *router.urls,
]
