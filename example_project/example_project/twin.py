"""One read behind django-stepup and the same read behind DRF's TokenAuthentication.

Mounted only with ``EXAMPLE_DRF_TOKEN_TWIN=1`` (``make deploy-check`` measures them
against each other on the same server); the views differ in their authentication only.
"""

from rest_framework.authentication import TokenAuthentication
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from django_stepup.authentication import StepUpTokenAuthentication
from django_stepup.permissions import MFARequiredIfEnabled


class StepUpRead(APIView):
    authentication_classes = [StepUpTokenAuthentication]
    permission_classes = [IsAuthenticated, MFARequiredIfEnabled]

    def get(self, request):
        return Response({"user": request.user.pk})


class DRFTokenRead(StepUpRead):
    authentication_classes = [TokenAuthentication]
    permission_classes = [IsAuthenticated]
