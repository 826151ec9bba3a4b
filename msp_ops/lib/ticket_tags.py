"""``|ticket``: a ticket reference as the pages show it (a template builtin, settings.TEMPLATES).

A reference of digits only (``1234``, as the Today page's ``T#1234`` stores it) is shown with
the ``T#`` mark that says what the number is; any other (``T-5966``, ``P1-7781``, a PSA's own
``T#48213``) as it was written, never with a second prefix in front (``T#T-5966``).
"""

from __future__ import annotations

from django import template

register = template.Library()


@register.filter(is_safe=False)
def ticket(reference: str) -> str:
    return f"T#{reference}" if reference.isascii() and reference.isdigit() else reference
