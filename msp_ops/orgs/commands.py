"""What the operator commands share: resolving their arguments, or a CommandError that says why.

A command resolves every argument before it changes anything (STYLE 3), so a refusal leaves
the database as it was.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import CommandError

from msp_ops.orgs.models import Membership, Organization


def organization_or_error(slug: str) -> Organization:
    org = Organization.objects.filter(slug=slug).first()
    if org is None:
        raise CommandError(f"No organization with slug '{slug}'.")
    return org


def membership_or_error(*, org_slug: str, username: str) -> Membership:
    membership = (
        Membership.objects.select_related("organization", "user")
        .filter(organization__slug=org_slug, user__username=username)
        .first()
    )
    if membership is None:
        raise CommandError(f"'{username}' is not a member of an organization with slug '{org_slug}'.")
    return membership


def validation_error_text(error: ValidationError) -> str:
    """A service's ValidationError as one line: ``field: message ...``."""
    if hasattr(error, "message_dict"):
        return " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
    return " ".join(error.messages)
