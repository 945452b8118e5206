from django.urls import path

from . import views

app_name = "django_stepup"

urlpatterns = []

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
