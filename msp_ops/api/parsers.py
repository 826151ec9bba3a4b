"""Strict JSON in (SPEC 4): a size limit (413), a depth limit and a clear message for malformed
JSON (400), and bodies sent without ``Content-Length`` (``Transfer-Encoding: chunked``).

The size limit is ``DATA_UPLOAD_MAX_MEMORY_SIZE``; it is checked against ``Content-Length``
before anything is read, and again while reading a chunked body. JSON nested deeper than
``MAX_JSON_DEPTH`` is refused (400) by the parser, whether the decoder gives up on it or not, so
nothing walking the data afterwards (validation, error messages) meets it.
"""

from __future__ import annotations

import functools
import io
import json
from collections.abc import Callable
from typing import Any

import msgspec
from django.conf import settings
from django.core.handlers.wsgi import LimitedStream
from django.http import HttpRequest, HttpResponse, JsonResponse
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

# Arrays and objects inside one another. A batch of time entries needs 3 (array, object,
# tags); the limit leaves room for every endpoint to come and stays far below the recursion limit.
MAX_JSON_DEPTH = 32
DEPTH_MESSAGE = f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep (arrays and objects)."
READ_CHUNK = 64 * 1024


def max_body_bytes() -> int:
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_large():
    # Imported here: msp_ops.api.exceptions imports DRF's views, which import this module
    # (DEFAULT_PARSER_CLASSES) when it is the first one loaded.
    from msp_ops.api.exceptions import too_large

    return too_large()


# msgspec reads a body about twice as fast as ``json.loads``, into the same values (ints of any
# size, floats rounded alike, the last of repeated keys); whatever it refuses (NaN, lone
# surrogates, numbers beyond a float, malformed text, deep nesting) is read again by
# ``json.loads``, which accepts or refuses it with the messages the API always gave.
_decoder = msgspec.json.Decoder()


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def nested_too_deep(data: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether arrays and objects in decoded JSON nest deeper than ``limit`` (no recursion)."""
    stack = [(data, 1)] if isinstance(data, dict | list) else []
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False


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
            data = _decoder.decode(raw)
        except (msgspec.DecodeError, RecursionError):
            data = self._parse_text(raw)  # the standard library's reading words every refusal
        # Only a body with more brackets than the limit can nest that deep: the usual one is not walked.
        if raw.count(b"[") + raw.count(b"{") > MAX_JSON_DEPTH and nested_too_deep(data):
            raise ParseError(DEPTH_MESSAGE)
        return data

    @staticmethod
    def _parse_text(raw: bytes) -> Any:
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise ParseError("Malformed JSON: the body is not UTF-8 text.") from None
        if not text.strip():
            raise ParseError("The body is empty: send a JSON object or an array of objects.")
        try:
            data = json.loads(text, parse_constant=_refuse_constant)
        except ValueError as error:
            raise ParseError(f"Malformed JSON: {error}.") from None
        except RecursionError:  # the decoder gave up (Python's recursion limit, ~1,000 levels)
            raise ParseError(DEPTH_MESSAGE) from None
        return data


# --- bodies without Content-Length --------------------------------------------------------

LENGTH_REQUIRED_MESSAGE = (
    "This server cannot read a body sent without Content-Length (Transfer-Encoding: chunked); "
    "send the Content-Length header."
)


def detail_response(detail: str, status: int) -> JsonResponse:
    """``{"detail": ...}`` written as DRF writes it, for answers given outside DRF's views."""
    return JsonResponse({"detail": detail}, status=status, json_dumps_params={"separators": (",", ":")})


def buffer_chunked_body(request: HttpRequest) -> HttpResponse | None:
    """Reads a body sent with ``Transfer-Encoding: chunked`` (no ``Content-Length``) into memory.

    Django reads a request without ``Content-Length`` as empty. A WSGI server that decodes
    chunked bodies and ends the stream after the last chunk says so with
    ``wsgi.input_terminated`` (gunicorn does); the body is then read up to the size limit and
    the request carries it like any other. Answers a 413 beyond the limit, a 411 on a server
    that does not end the stream (reading it would wait for the client forever), else None.
    """
    meta = request.META
    if meta.get("CONTENT_LENGTH") or "chunked" not in meta.get("HTTP_TRANSFER_ENCODING", "").lower():
        return None
    if not meta.get("wsgi.input_terminated"):
        return detail_response(LENGTH_REQUIRED_MESSAGE, 411)
    limit = max_body_bytes()
    stream = meta["wsgi.input"]
    chunks: list[bytes] = []
    size = 0
    while size <= limit:
        chunk = stream.read(min(READ_CHUNK, limit + 1 - size))
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    if size > limit:
        return detail_response(str(too_large().detail), 413)
    body = b"".join(chunks)
    meta["CONTENT_LENGTH"] = str(len(body))
    request._stream = LimitedStream(io.BytesIO(body), len(body))
    return None


def reads_chunked_bodies(view: Callable) -> Callable:
    """A view that first reads a chunked body (``buffer_chunked_body``)."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return buffer_chunked_body(request) or view(request, *args, **kwargs)

    return wrapped
