from django.contrib import admin
from django.urls import include, path

from tests.testapp import views

urlpatterns = [
    path("admin/", admin.site.urls),
    path("auth/", include("django_stepup.urls")),
    path("whoami/", views.WhoAmIView.as_view()),
    path("guarded/mfa/", views.MFAView.as_view()),
    path("guarded/recent/", views.RecentMFAView.as_view()),
    path("guarded/recent-default/", views.RecentMFADefaultView.as_view()),
    path("guarded/recent-attribute/", views.RecentMFAViewAttribute.as_view()),
    path("guarded/login-token/", views.LoginTokenView.as_view()),
    path("guarded/api-token/", views.APITokenView.as_view()),
]
