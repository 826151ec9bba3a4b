"""``Authorization: Token <key>``: the key's hash finds the token, which binds the request
to its organization and member (``request.org``, ``request.membership``), like the web
middleware does for sessions."""

from __future__ import annotations

from datetime import timedelta
from functools import cache

from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from rest_framework import authentication, exceptions

from msp_ops.lib.prepared import Prepared
from msp_ops.lib.rawrows import RowReader, read_objects
from msp_ops.orgs.models import ApiToken, Membership, Organization, hash_token_key

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
        token = active_token(hash_token_key(key))
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


def active_token(key_hash: str) -> ApiToken | None:
    """``ApiToken.objects.active().select_related("membership__organization", "membership__user")
    .filter(key_hash=key_hash).first()``, as one SQL statement written once per process.

    Compiling that queryset took about a third of an authenticated request's own time in
    Python; the statement and the objects are the same (``msp_ops.lib.rawrows``), the hash
    still compared by PostgreSQL on the unique index. The statement is prepared once per
    connection (``msp_ops.lib.prepared``): planning the four-table join cost PostgreSQL 0.5 to
    1 ms a request, more than running it.
    """
    readers = _token_statement()[1]
    with connection.cursor() as cursor:
        _TOKEN_LOOKUP.execute(cursor, [key_hash])
        row = cursor.fetchone()
    if row is None:
        return None
    token, membership, organization, user = read_objects(row, readers)
    membership.organization, membership.user = organization, user
    token.membership = membership
    return token


@cache
def _token_statement() -> tuple[str, list[RowReader]]:
    user_model = get_user_model()
    quote = connection.ops.quote_name
    readers = [RowReader(model) for model in (ApiToken, Membership, Organization, user_model)]
    columns = ", ".join(reader.columns(alias) for reader, alias in zip(readers, "tmou", strict=True))
    token, membership = ApiToken._meta, Membership._meta
    sql = (
        f"SELECT {columns} FROM {quote(token.db_table)} t"
        f" JOIN {quote(membership.db_table)} m ON m.{quote(membership.pk.column)}"
        f" = t.{quote(token.get_field('membership').column)}"
        f" JOIN {quote(Organization._meta.db_table)} o ON o.{quote(Organization._meta.pk.column)}"
        f" = m.{quote(membership.get_field('organization').column)}"
        f" JOIN {quote(user_model._meta.db_table)} u ON u.{quote(user_model._meta.pk.column)}"
        f" = m.{quote(membership.get_field('user').column)}"
        f" WHERE t.{quote(token.get_field('key_hash').column)} = %s"
        f" AND t.{quote(token.get_field('revoked_at').column)} IS NULL LIMIT 1"
    )
    return sql, readers


_TOKEN_LOOKUP = Prepared("msp_api_token", lambda: _token_statement()[0], ["text"])
