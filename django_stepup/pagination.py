"""Cursor pagination with ``Link`` headers, as deSEC paginates its lists.

The body stays a plain JSON array; a page that has neighbours carries a ``Link``
header with ``first``, and ``prev`` and ``next`` where they exist. Cursors are DRF's
(opaque, stable while rows are added).

Internal: may change without notice.
"""

from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param


class LinkHeaderCursorPagination(CursorPagination):
    """A page of at most ``page_size`` rows in ``ordering``, its links in the ``Link`` header."""

    page_size = 100
    ordering = ("-created", "-id")

    def get_paginated_response_schema(self, schema):
        """The page is the plain list; the links are in the ``Link`` header."""
        return schema

    def get_paginated_response(self, data):
        if not (self.has_next or self.has_previous):
            return Response(data)
        links = {
            "first": remove_query_param(str(self.base_url), self.cursor_query_param),
            "prev": self.get_previous_link(),
            "next": self.get_next_link(),
        }
        return Response(data, headers=link_header(links))


def link_header(links):
    """The ``Link`` header value for ``{rel: url}``, leaving out missing urls."""
    return {"Link": ", ".join(f'<{url}>; rel="{rel}"' for rel, url in links.items() if url)}
