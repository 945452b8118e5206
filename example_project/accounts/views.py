from rest_framework.response import Response
from rest_framework.views import APIView


class PingView(APIView):
    """The smallest protected endpoint: who is asking, with which kind of token."""

    def get(self, request):
        return Response({"email": request.user.email, "token_kind": request.auth.kind})
