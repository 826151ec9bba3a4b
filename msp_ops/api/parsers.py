"""Strict JSON in (SPEC 4): a size limit (413), a clear message for malformed JSON (400).

The limit is ``DATA_UPLOAD_MAX_MEMORY_SIZE``; it is checked against ``Content-Length`` before
anything is read, and again while reading a body sent without that header.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from msp_ops.api.exceptions import too_large


def max_body_bytes() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class StrictJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None) -> Any:
        limit = max_body_bytes()
        request = (parser_context or {}).get("request")
        if request is not None:
            try:
                declared = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                declared = 0
            if declared > limit:
                raise too_large()
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise too_large()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("Malformed JSON: the body is not UTF-8 text.") from None
        if not text.strip():
            raise ParseError("The body is empty: send a JSON object or an array of objects.")
        try:
            return json.loads(text, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ParseError(f"Malformed JSON: {error}.") from None
