"""What every time-audit page shares: the status of a refused write, tag labels, rendering in the
organization's time zone."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from audits.models import Tag

UNPROCESSABLE = 422
TAG_LABELS = dict(Tag.choices)


def render_local(
    request: HttpRequest, template: str, context: dict, status: int = 200, **headers
) -> HttpResponse:
    """Renders with the org's time zone active, so every time shows as local time."""
    with timezone.override(request.org.tz):
        response = render(request, template, context, status=status)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response
