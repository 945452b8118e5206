"""One trivial view per authentication scheme; only the authentication classes differ."""

from django.urls import path
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.permissions import MFARequiredIfEnabled


class OkView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


class DRFTokenView(OkView):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]


class KnoxTokenView(OkView):
    authentication_classes = [KnoxTokenAuthentication]
    permission_classes = [IsAuthenticated]


class StepUpTokenView(OkView):
    authentication_classes = [StepUpTokenAuthentication]
    permission_classes = [IsAuthenticated]


class StepUpMFAView(OkView):
    authentication_classes = [StepUpTokenAuthentication]
    permission_classes = [IsAuthenticated & MFARequiredIfEnabled]


urlpatterns = [
    path("none/", OkView.as_view()),
    path("drf/", DRFTokenView.as_view()),
    path("knox/", KnoxTokenView.as_view()),
    path("stepup/", StepUpTokenView.as_view()),
    path("stepup-mfa/", StepUpMFAView.as_view()),
]
