"""API access by role, read from ``msp_ops/orgs/roles.py`` (SPEC 1; 403 otherwise).

A viewset names its permissions: ``read_perm`` to read every row, ``write_perm`` to write any
row (for any member), and ``own_perm`` to read and write only the member's own rows (those
whose ``owner_field`` is the member). ``access()`` says which of these applies.
"""

from __future__ import annotations

from enum import Enum
from typing import TYPE_CHECKING

from rest_framework.permissions import SAFE_METHODS, BasePermission

from msp_ops.orgs.roles import Perm, role_can

if TYPE_CHECKING:
    from rest_framework.request import Request


class Access(Enum):
    NONE = "none"
    OWN = "own"  # only rows whose owner is the member
    ALL = "all"


def access(request: Request, view, *, write: bool) -> Access:
    membership = getattr(request, "membership", None)
    if membership is None or not role_can(membership.role, Perm.USE_API):
        return Access.NONE
    # A view outside the framework (no perms named) is read-only for members who may view.
    perm = getattr(view, "write_perm", None) if write else getattr(view, "read_perm", Perm.VIEW)
    if perm is not None and role_can(membership.role, perm):
        return Access.ALL
    own = getattr(view, "own_perm", None)
    if own is not None and getattr(view, "owner_field", None) and role_can(membership.role, own):
        return Access.OWN
    return Access.NONE


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
