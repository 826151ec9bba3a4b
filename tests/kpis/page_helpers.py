"""Reading the KPI pages in tests: an element's text by id or by selector-ish
attributes, without depending on the whitespace of the templates."""

from __future__ import annotations

import re
from html.parser import HTMLParser

HTMX = {"HTTP_HX_REQUEST": "true"}
# Tags whose edges separate words in the text read (a table's cells, list items, paragraphs).
BLOCK = {
    "td",
    "th",
    "tr",
    "li",
    "p",
    "div",
    "section",
    "h1",
    "h2",
    "h3",
    "h4",
    "dt",
    "dd",
    "ul",
    "ol",
    "table",
}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


def body(response) -> str:
    return response.content.decode()


class _Elements(HTMLParser):
    """Collects the text and inner HTML of every element matching ``attrs`` (all given)."""

    def __init__(self, wanted: dict[str, str]):
        super().__init__(convert_charrefs=True)
        self.wanted = wanted
        self.open: list[dict] = []  # matches still open: {"depth", "text", "html"}
        self.found: list[dict] = []
        self.depth = 0

    def _record(self, text: str, markup: str) -> None:
        for match in self.open:
            match["text"].append(text)
            match["html"].append(markup)

    def handle_starttag(self, tag, attrs):
        markup = self.get_starttag_text() or ""
        self._record(" " if tag in BLOCK else "", markup)
        values = dict(attrs)
        if tag not in VOID:
            self.depth += 1
            if all(values.get(k) == v for k, v in self.wanted.items()):
                self.open.append({"depth": self.depth, "text": [], "html": [], "attrs": values})

    def handle_startendtag(self, tag, attrs):
        self._record("", self.get_starttag_text() or "")

    def handle_endtag(self, tag):
        if tag in VOID:
            return
        closing = [m for m in self.open if m["depth"] == self.depth]
        for match in closing:
            self.open.remove(match)
            self.found.append(match)
        self._record(" " if tag in BLOCK else "", f"</{tag}>")
        self.depth -= 1

    def handle_data(self, data):
        self._record(data, data)


def elements(html: str, **attrs: str) -> list[dict]:
    """Every element whose attributes equal ``attrs`` (``data_role="x"`` is ``data-role``,
    ``class_`` is ``class``), in document order of their end, with ``text`` (whitespace
    collapsed) and ``html`` (inner)."""
    wanted = {name.rstrip("_").replace("_", "-"): value for name, value in attrs.items()}
    parser = _Elements(wanted)
    parser.feed(html)
    parser.close()
    return [
        {"text": squash("".join(m["text"])), "html": "".join(m["html"]), "attrs": m["attrs"]}
        for m in parser.found
    ]


def text(html: str, **attrs: str) -> str:
    """The text of the one element matching ``attrs``."""
    found = elements(html, **attrs)
    assert len(found) == 1, f"{len(found)} elements match {attrs}"
    return found[0]["text"]


def inner(html: str, **attrs: str) -> str:
    found = elements(html, **attrs)
    assert len(found) == 1, f"{len(found)} elements match {attrs}"
    return found[0]["html"]


def texts(html: str, **attrs: str) -> list[str]:
    return [found["text"] for found in elements(html, **attrs)]


def squash(value: str) -> str:
    return re.sub(r"\s+", " ", value).strip()
