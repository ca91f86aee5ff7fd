"""JSON bodies parsed exactly: decimals stay `Decimal`, NaN and Infinity are refused."""

from __future__ import annotations

import json
from decimal import Decimal

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from cynco.errors import PayloadTooLarge


def _refuse_constant(name: str):
    raise ValueError(f"{name} is not a valid JSON number")


class StrictJSONParser(JSONParser):
    """Like DRF's JSONParser, but `1.5` parses to Decimal("1.5") rather than a binary float, so
    usage amounts with six decimal places arrive intact."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", "utf-8")
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise PayloadTooLarge(f"The request body is larger than {limit} bytes")
        try:
            text = raw.decode(encoding)
            return json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
