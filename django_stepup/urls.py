from django.urls import path

from . import views

app_name = "django_stepup"

urlpatterns = [
    path("login/", views.LoginView.as_view(), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("account/", views.AccountView.as_view(), name="account"),
    path("totp/", views.TOTPFactorListView.as_view(), name="totp-list"),
    path("totp/<int:pk>/", views.TOTPFactorDetailView.as_view(), name="totp-detail"),
    path("totp/<int:pk>/verify/", views.TOTPFactorVerifyView.as_view(), name="totp-verify"),
    path("mfa/verify/", views.MFAVerifyView.as_view(), name="mfa-verify"),
    path("recovery-codes/", views.RecoveryCodesView.as_view(), name="recovery-codes"),
    path("events/", views.EventListView.as_view(), name="event-list"),
    path("leaked-secrets/", views.LeakReportView.as_view(), name="leaked-secrets"),
]

# -- Token management and token policies ------------------------------------------------
urlpatterns += [
    path(
        "tokens/",
        views.TokenViewSet.as_view({"get": "list", "post": "create"}),
        name="token-list",
    ),
    path(
        "tokens/<str:pk>/",
        views.TokenViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="token-detail",
    ),
    path(
        "tokens/<str:token_id>/policies/<str:scope>/",
        views.TokenPolicyViewSet.as_view({"get": "list", "post": "create"}),
        name="token-policy-list",
    ),
    path(
        "tokens/<str:token_id>/policies/<str:scope>/<str:pk>/",
        views.TokenPolicyViewSet.as_view(
            {"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"}
        ),
        name="token-policy-detail",
    ),
]
