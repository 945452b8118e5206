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
    path("webauthn/", views.WebAuthnFactorListView.as_view(), name="webauthn-list"),
    path("webauthn/challenge/", views.WebAuthnChallengeView.as_view(), name="webauthn-challenge"),
    path("webauthn/<int:pk>/", views.WebAuthnFactorDetailView.as_view(), name="webauthn-detail"),
    path(
        "webauthn/<int:pk>/verify/",
        views.WebAuthnFactorVerifyView.as_view(),
        name="webauthn-verify",
    ),
    path("passkey/challenge/", views.PasskeyChallengeView.as_view(), name="passkey-challenge"),
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
