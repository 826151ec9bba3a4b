"""API access by role, read from ``msp_ops/orgs/roles.py`` (SPEC 1; 403 otherwise).

A viewset names a ``roles.RowRule`` for reading (``read_rule``: default, every row for
members who may view) and one for writing (``write_rule``), and the ``owner_field`` naming
a row's member for rules that let a member act on its own rows only. ``access()`` asks the
rule, as the pages do (``msp_ops.orgs.access.row_access``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

from msp_ops.orgs.access import row_access
from msp_ops.orgs.roles import Access, Perm, RowRule, role_can

if TYPE_CHECKING:
    from rest_framework.request import Request

READ_ALL = RowRule(all=Perm.VIEW)
NO_WRITE = RowRule(all=None)


def access(request: Request, view, *, write: bool) -> Access:
    membership = getattr(request, "membership", None)
    if membership is None or not role_can(membership.role, Perm.USE_API):
        return Access.NONE
    # A view outside the framework (no rules named) is read-only for members who may view.
    rule = getattr(view, "write_rule", NO_WRITE) if write else getattr(view, "read_rule", READ_ALL)
    found = row_access(request, rule)
    if found is Access.OWN and not getattr(view, "owner_field", None):
        return Access.NONE  # rows without an owner: "own rows" means none
    return found


def _role_message(request: Request, write: bool) -> str:
    role = getattr(getattr(request, "membership", None), "role", "?")
    return f"Your role ({role}) may not {'change' if write else 'read'} these objects."


class RolePermission(BasePermission):
    """The request's method needs read or write access to the viewset's rows."""

    def has_permission(self, request: Request, view) -> bool:
        if request.user is None or getattr(request, "membership", None) is None:
            return False  # DRF answers 401: no or bad token
        write = request.method not in SAFE_METHODS
        if access(request, view, write=write) is Access.NONE:
            self.message = _role_message(request, write)
            return False
        return True
