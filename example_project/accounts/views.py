"""The passkey page: a static template whose plain JavaScript calls the auth API."""

from django.views.generic import TemplateView


class PasskeyPageView(TemplateView):
    """``GET passkeys/``: log in, register a passkey, step up, log in with the passkey alone.

    The page holds no state on the server: its script keeps the login token in memory
    and sends it in ``Authorization`` headers, as any front end of the API would.
    """

    template_name = "accounts/passkeys.html"
    http_method_names = ["get"]
