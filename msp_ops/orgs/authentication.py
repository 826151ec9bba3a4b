"""``Authorization: Token <key>``: the key's hash finds the token, which binds the request
to its organization and member (``request.org``, ``request.membership``), like the web
middleware does for sessions."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from msp_ops.orgs.models import ApiToken, hash_token_key

# last_used_at is written at most this often per token, so a busy script does not turn
# every request into a write.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiTokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Send the header as 'Authorization: Token <key>'.")
        try:
            key = header[1].decode()
        except UnicodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        token = (
            ApiToken.objects.active()
            .select_related("membership__organization", "membership__user")
            .filter(key_hash=hash_token_key(key))
            .first()
        )
        if token is None or not token.membership.user.is_active:
            raise exceptions.AuthenticationFailed("Invalid or revoked token.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
        django_request = request._request
        django_request.membership = token.membership
        django_request.org = token.membership.organization
        return token.membership.user, token

    def authenticate_header(self, request) -> str:
        return self.keyword
