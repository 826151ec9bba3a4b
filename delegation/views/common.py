"""What the delegation pages share: rendering in the org's zone, the status of a refused write,
the week of ``?week=``, and a service's errors as lines of text.

Views stay thin (STYLE 3): scope to ``request.org``, check shape with a form, call one service
or selector, render. htmx requests get a partial (``wants_partial``); a refused write answers
422 with the form and its message (``templates/audits/partials/htmx_config.html`` lets htmx
swap it in; the quick-log dialog on every page does the same in ``static/js/interruptions.js``).
Without JavaScript every form still works with plain POSTs and redirects.
"""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from audits.views.common import UNPROCESSABLE, render_local
from msp_ops.lib import weeks
from msp_ops.orgs.batches import BatchValidationError, errors_of

__all__ = [
    "UNPROCESSABLE",
    "attach_errors",
    "error_lines",
    "render_local",
    "safe_next",
    "week_arg",
]


def week_arg(request: HttpRequest) -> date:
    """``?week=YYYY-MM-DD`` (a Monday); anything else is this week in the org's zone."""
    value = request.GET.get("week") or request.POST.get("week")
    if value:
        try:
            return weeks.parse_week(value)
        except ValueError:
            pass
    return weeks.current_week(request.org.tz)


# The API's name of a field a service's message names, and what the pages call it.
_PAGE_WORDS = (("a done_override_reason", "a reason (“Done although items are open, because…”)"),)


def _page_words(text: str) -> str:
    for api, page in _PAGE_WORDS:
        text = text.replace(api, page)
    return text


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if isinstance(error, BatchValidationError):
        found = {key: [str(text) for text in texts] for key, texts in error.item_errors[0].items()}
    else:
        found = errors_of(error)
    return {key: [_page_words(text) for text in texts] for key, texts in found.items()}


def attach_errors(form: forms.Form, error: ValidationError, fields: dict[str, str] | None = None) -> None:
    """A service's refusal (one item) shown on ``form``: under the field it names (model names
    mapped by ``fields``), else above the form."""
    fields = fields or {}
    for key, texts in _messages(error).items():
        name = fields.get(key, key)
        for text in texts:
            form.add_error(name if name in form.fields else None, text)


def error_lines(error: ValidationError) -> list[str]:
    """Every message of a refusal, as lines (non-field ones first)."""
    messages = _messages(error)
    ordered = [*messages.pop(NON_FIELD_ERRORS, []), *(text for texts in messages.values() for text in texts)]
    return [str(text) for text in ordered]


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The page to go back to after a plain POST (``next``), if it is one of ours."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
        return target
    return fallback
