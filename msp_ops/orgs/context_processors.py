from django.http import HttpRequest

from msp_ops.orgs.roles import ROLE_PERMISSIONS


def current_organization(request: HttpRequest) -> dict:
    membership = getattr(request, "membership", None)
    if membership is None:
        return {"org": None, "membership": None, "perms_in_org": frozenset(), "my_orgs": []}
    return {
        "org": request.org,
        "membership": membership,
        # Templates test e.g. `"manage_tickets" in perms_in_org`.
        "perms_in_org": {str(p) for p in ROLE_PERMISSIONS[membership.role]},
        "my_orgs": getattr(request, "memberships", [membership]),  # the middleware's one query
    }
