"""What the KPI pages share: the week of ``?week=``, rendering in the org's zone, status words.

Views stay thin (STYLE 3): scope to ``request.org``, check shape with a form, call one service or
selector, render. htmx requests get a partial (``wants_partial``); a refused write answers 422
with the form and its messages. Without JavaScript every form still works with plain POSTs.
"""

from __future__ import annotations

from delegation.views.common import UNPROCESSABLE, attach_errors, render_local, safe_next, week_arg
from kpis.formulas import AMBER, GREEN, RED
from kpis.models import UNASSIGNED

__all__ = [
    "STATUS_TEXT",
    "UNPROCESSABLE",
    "attach_errors",
    "render_local",
    "safe_next",
    "team_order",
    "week_arg",
]

# The status colour in words too (colour-blind users, print): "Green: on target".
STATUS_TEXT = {GREEN: "on target", AMBER: "watch", RED: "off target"}


def team_order(team: str) -> tuple[bool, str, str]:
    """Teams by name, ``Unassigned`` last (jsonb keeps no key order, so the pages sort)."""
    return (team == UNASSIGNED, team.lower(), team)
