"""The API's JSON parser reads bodies with msgspec and gives exactly what ``json.loads`` gives:
the same values (types included) for what both read, and for everything else the standard
library's reading, with the messages the API always gave (SPEC 4)."""

from __future__ import annotations

import io
import json

import pytest
from rest_framework.exceptions import ParseError

from msp_ops.api.parsers import DEPTH_MESSAGE, StrictJSONParser


def parse(body: bytes):
    return StrictJSONParser().parse(io.BytesIO(body))


@pytest.mark.parametrize(
    "body",
    [
        "123456789012345678901234567890",  # beyond 64 bits: a Python int
        "-9223372036854775809",
        "[0.1, 4.35, 1.7976931348623157e308, 1e-400, -0.0, -0, 1E2, 5.0e0]",
        '{"a": 1, "a": 2}',  # the last of repeated keys
        '["\\u0000", "\\ud83d\\ude00", "caf\\u00e9", "Café", "\\u2028"]',
        '  [{"started_at": "2025-03-03T09:00:00-06:00", "tags": [], "urgent": null}]\n',
        "[" * 32 + "]" * 32,
    ],
)
def test_values_are_those_of_the_standard_library(body):
    got = parse(body.encode())

    assert got == json.loads(body)
    assert repr(got) == repr(json.loads(body))  # types too: ints stay ints, -0.0 stays -0.0


@pytest.mark.parametrize(
    "body",
    [
        b"NaN",
        b"[Infinity]",
        b"1e400",
        b'"\\ud800"',  # a lone surrogate: json.loads takes it, the serializer then refuses it
        b"[1,]",
        b"\xef\xbb\xbf[]",  # a byte order mark
        b'["\xff"]',
        b"   ",
        b"",
        b'["tab\there"]',
        b"[" * 33 + b"]" * 33,
        b"[" * 5000 + b"]" * 5000,
    ],
)
def test_what_msgspec_refuses_is_read_as_the_standard_library_reads_it(body):
    try:
        expected = ("value", repr(_standard(body)))
    except ParseError as error:
        expected = ("error", str(error.detail))
    try:
        got = ("value", repr(parse(body)))
    except ParseError as error:
        got = ("error", str(error.detail))

    assert got == expected


def _standard(body: bytes):
    """The parser as it was before msgspec: ``json.loads`` and the depth limit."""
    data = StrictJSONParser._parse_text(body)
    if body.count(b"[") > 32:
        raise ParseError(DEPTH_MESSAGE)
    return data
