"""The JSON parser of the app's views, for a host's ``DEFAULT_PARSER_CLASSES`` too."""

import codecs
from collections.abc import Mapping
from typing import IO, Any, cast

from django.conf import settings
from django.utils.translation import gettext_lazy as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

__all__ = ["JSONParser"]


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """An object whose keys are unique; a repeated key would silently keep its last value."""
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise ParseError(
                _("JSON parse error - duplicate key %(key)s.") % {"key": json.dumps(key)}
            )
        result[key] = value
    return result


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering with a 400 where DRF's would guess or fail.

    - An object that repeats a key is refused: ``{"name": "a", "name": "b"}`` is ambiguous.
    - Python's JSON decoder raises ``RecursionError`` for input nested thousands of
      levels deep, which DRF's parser does not catch.
    """

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        parse_constant = json.strict_constant if self.strict else None
        try:
            return json.load(
                cast(IO[str], codecs.getreader(encoding)(stream)),
                parse_constant=parse_constant,
                object_pairs_hook=_refuse_duplicate_keys,
            )
        except RecursionError:
            raise ParseError(_("JSON parse error - the document is nested too deeply.")) from None
        except ValueError as error:
            raise ParseError(_("JSON parse error - %(error)s") % {"error": error}) from None
