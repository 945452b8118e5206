from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.permissions import IsAPIToken, IsLoginToken, MFARequiredIfEnabled, RecentMFA


class WhoAmIView(APIView):
    authentication_classes = [StepUpTokenAuthentication]
    permission_classes = [IsAuthenticated]

    def get(self, request):
        return Response({"email": request.user.email, "token": str(request.auth.id)})


class GuardedView(APIView):
    """Answers 200 when its permission classes let the request through."""

    def get(self, request):
        return Response({"ok": True})


class MFAView(GuardedView):
    permission_classes = [IsAuthenticated, MFARequiredIfEnabled]


class RecentMFAView(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA.with_max_age(300)]


class RecentMFADefaultView(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA]


class RecentMFAViewAttribute(GuardedView):
    permission_classes = [IsAuthenticated, RecentMFA]
    recent_mfa_max_age = 60


class LoginTokenView(GuardedView):
    permission_classes = [IsLoginToken]


class APITokenView(GuardedView):
    permission_classes = [IsAPIToken]
