"""deSEC's pagination of RRset lists ("Pagination" in desec.readthedocs.io's RRset docs).

Up to ``DNSAPI_PAGE_SIZE`` (default 500) RRsets come in one response, without pagination.
Beyond that the ``cursor`` query parameter is required: without it the answer is ``400`` with
instructions and a ``Link`` header to the first page (``cursor=``); each page's ``Link``
header has ``first``, and ``prev`` and ``next`` where they exist. Cursors are opaque (DRF's
cursor pagination), so pages stay consistent while RRsets are added or removed.
"""

from django.conf import settings
from rest_framework import status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

DEFAULT_PAGE_SIZE = 500


class LinkHeaderCursorPagination(CursorPagination):
    ordering = ("subname", "type")

    def get_page_size(self, request):
        return getattr(settings, "DNSAPI_PAGE_SIZE", DEFAULT_PAGE_SIZE)

    def paginate_queryset(self, queryset, request, view=None):
        self.queryset = queryset
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema):
        """The page is the plain list; the links are in the ``Link`` header."""
        return schema

    def get_paginated_response(self, data):
        if not (self.has_next or self.has_previous):
            return Response(data)
        first = replace_query_param(self.base_url, self.cursor_query_param, "")
        if self.cursor_query_param not in self.request.query_params:
            total = self.queryset.count()
            detail = (
                f"Pagination required. You can query up to {self.page_size} items at a time "
                f"({total} total). Please use the `first` page link (see Link header)."
            )
            return Response(
                {"detail": detail},
                status=status.HTTP_400_BAD_REQUEST,
                headers=link_header({"first": first}),
            )
        links = {"first": first, "prev": self.get_previous_link(), "next": self.get_next_link()}
        return Response(data, headers=link_header(links))


def link_header(links):
    return {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)}
