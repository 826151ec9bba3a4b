"""``{% url %}`` and ``|date`` that remember their answers: template builtins (settings.TEMPLATES).

Rendering the service manager's dashboard reversed 42 URLs (the navigation, the agenda's links)
and formatted 71 dates, each 20 to 60 µs on this project's machines: about a tenth of the
page's time, for answers that are the same on every request. These two replace Django's own
everywhere (an engine's ``builtins`` come after Django's, so their names win) and answer the
same text:

- ``{% url %}`` reverses through a bounded cache keyed by everything the answer depends on:
  the view name, the arguments, the current application, the URLconf, the script prefix and
  the language. Arguments other than text and integers (a model object, a list) are reversed
  each time, as Django does.
- ``|date`` remembers the text of a ``date`` (not a ``datetime``: its zone and fold would be
  part of the answer) per format and active language. Everything else goes to Django's filter.

Both forget everything when a setting changes (tests), as Django's URL caches do.
"""

from __future__ import annotations

import datetime
import functools
from typing import Any

from django import template
from django.core.signals import setting_changed
from django.template import defaultfilters, defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

register = template.Library()

_REMEMBERED = 4096  # distinct answers kept per cache (a page's links, the weeks' labels)


@functools.lru_cache(maxsize=_REMEMBERED)
def _reverse(view_name: str, args: tuple, kwargs: tuple, current_app: str | None, *_context) -> str:
    # The URLconf, the script prefix and the language are part of the key: reverse() reads
    # them itself (the language for URL patterns translated or prefixed by language).
    return reverse(view_name, args=args, kwargs=dict(kwargs), current_app=current_app)


def _plain(values) -> bool:
    # Text (a template's literal is a SafeString) and integers: immutable, and reversed by value.
    return all(isinstance(value, int | str) for value in values)


class RememberedURLNode(defaulttags.URLNode):
    def render(self, context) -> str:
        # Django's ``URLNode.render`` (5.2) line for line, its ``reverse`` call remembered.
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            if isinstance(view_name, str) and _plain(args) and _plain(kwargs.values()):
                key = tuple(sorted(kwargs.items()))
                url = _reverse(
                    view_name,
                    tuple(args),
                    key,
                    current_app,
                    get_urlconf(),
                    get_script_prefix(),
                    get_language(),
                )
            else:
                url = reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url


@register.tag
def url(parser, token) -> RememberedURLNode:
    node = defaulttags.url(parser, token)
    return RememberedURLNode(node.view_name, node.args, node.kwargs, node.asvar)


@functools.lru_cache(maxsize=_REMEMBERED)
def _date_text(value: datetime.date, arg: str | None, _language: str | None) -> str:
    return defaultfilters.date(value, arg)


@register.filter(expects_localtime=True, is_safe=False)
def date(value: Any, arg: str | None = None) -> str:
    if type(value) is datetime.date:
        return _date_text(value, arg, get_language())
    return defaultfilters.date(value, arg)


def _forget(**kwargs) -> None:
    _reverse.cache_clear()
    _date_text.cache_clear()


setting_changed.connect(_forget)
