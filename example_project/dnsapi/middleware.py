"""deSEC's front end (nginx) merges consecutive slashes before the API sees a URL; clients
rely on it, building ``rrsets/{subname}/`` with an empty subname as ``rrsets//``."""

import re

SLASHES = re.compile(r"/{2,}")


class MergeSlashesMiddleware:
    """``/api/v1/domains/x//rrsets//`` is ``/api/v1/domains/x/rrsets/``, as behind nginx's
    ``merge_slashes``. So ``rrsets//A/`` is ``rrsets/A/`` (no RRset), not the apex."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "//" in request.path_info:
            request.path_info = SLASHES.sub("/", request.path_info)
            request.path = SLASHES.sub("/", request.path)
        return self.get_response(request)
