"""Every write on organizations, memberships and API tokens."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from msp_ops import plugins
from msp_ops.orgs.models import ApiToken, Membership, Organization, Role, hash_token_key

User = get_user_model()


@transaction.atomic
def create_organization(
    *, slug: str, name: str, timezone_name: str = "UTC", managed_clients: int = 0
) -> Organization:
    """A new organization with every app's defaults (SPEC's categories ...), in one transaction."""
    org = Organization(slug=slug, name=name, timezone=timezone_name, managed_clients=managed_clients)
    org.full_clean()
    org.save()
    plugins.organization_created(org)
    return org


@transaction.atomic
def add_member(
    *, org: Organization, username: str, role: str, password: str | None = None
) -> tuple[Membership, bool]:
    """Adds (or re-roles) a member, creating the user when missing. Returns (membership, user_created)."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role '{role}'; choose one of {', '.join(Role.values)}."})
    user = User.objects.filter(username=username).first()
    user_created = user is None
    if user is None:
        user = User(username=username)
        user.full_clean(exclude=["password"])
    if password is not None:
        validate_password(password, user)
        user.set_password(password)
    elif user_created:
        user.set_unusable_password()
    user.save()
    membership, _ = Membership.objects.update_or_create(organization=org, user=user, defaults={"role": role})
    return membership, user_created


@dataclass(frozen=True)
class IssuedToken:
    token: ApiToken
    key: str  # shown once, never stored


def issue_api_token(*, membership: Membership, name: str = "API token") -> IssuedToken:
    key = ApiToken.generate_key()
    token = ApiToken(
        membership=membership, name=name or "API token", key_hash=hash_token_key(key), key_prefix=key[:8]
    )
    token.full_clean(exclude=["key_hash", "key_prefix"])
    token.save()
    return IssuedToken(token=token, key=key)


def revoke_api_token(*, token: ApiToken) -> None:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
