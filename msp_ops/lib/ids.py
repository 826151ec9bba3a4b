"""Row ids written as text: a path, a form or query value, a CSV cell."""

from __future__ import annotations

MAX_ID = 2**63 - 1  # the largest id a row can have (bigint)


def parse_id(text: str) -> int | None:
    """The id ``text`` writes in ASCII digits, if a row can have it; else None (no row has it).

    ``str.isdigit()`` alone also holds for "²", which ``int()`` refuses, and for "١٢", which it
    reads as 12; a number past the bigint range would fail the query in PostgreSQL.
    """
    if text.isascii() and text.isdigit() and (number := int(text)) <= MAX_ID:
        return number
    return None
