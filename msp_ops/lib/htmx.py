"""Partial or whole page, decided once (STYLE 9)."""

from django.http import HttpRequest


def wants_partial(request: HttpRequest) -> bool:
    """An htmx request that swaps a piece of the page (not an hx-boosted navigation)."""
    htmx = getattr(request, "htmx", None)
    return bool(htmx) and not htmx.boosted
