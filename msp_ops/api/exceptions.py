"""The one exception handler of the API: every refusal becomes a DRF-shaped JSON body (SPEC 4).

Services raise Django's ``ValidationError`` with field keys; a refused batch raises
``BatchValidationError`` whose ``item_errors`` hold one dict per input item (``{}`` for the
valid ones). Both answer 400 here, so views never translate errors themselves.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, RequestDataTooBig
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler

from msp_ops.api import throttling
from msp_ops.orgs.batches import BatchValidationError


class RequestTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "request_too_large"


def too_large() -> RequestTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return RequestTooLarge(
        f"The request body is larger than {limit} bytes; send fewer items per request "
        f"(at most {settings.API_MAX_BATCH})."
    )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "A concurrent request changed the same rows; send the request again."
    default_code = "conflict"


def drf_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    """Django's ``__all__`` key becomes DRF's ``non_field_errors``."""
    return {
        (api_settings.NON_FIELD_ERRORS_KEY if key == NON_FIELD_ERRORS else key): list(messages)
        for key, messages in errors.items()
    }


def _django_error_body(error: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return drf_errors(error.message_dict)
    return {api_settings.NON_FIELD_ERRORS_KEY: list(error.messages)}


def _sent_a_list(context: dict[str, Any]) -> bool:
    request = context.get("request")
    return request is not None and isinstance(getattr(request, "_full_data", None), list)


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, BatchValidationError):
        items = [drf_errors(item) for item in exc.item_errors]
        exc = exceptions.ValidationError(items if _sent_a_list(context) else items[0])
    elif isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_error_body(exc))
    elif isinstance(exc, RequestDataTooBig):  # Django refused to read the body
        exc = too_large()
    elif isinstance(exc, IntegrityError):
        # A race the services' checks could not see (the database refused it): retryable.
        exc = Conflict()
    elif isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        request = context.get("request")
        wait = throttling.refused_authentication_over_rate(request) if request is not None else None
        if wait is not None:  # the address is over the rate: 429, as a token would get
            exc = exceptions.Throttled(wait)
    elif isinstance(exc, exceptions.UnsupportedMediaType):
        request = context.get("request")
        sent = request.content_type if request is not None else ""
        exc = exceptions.UnsupportedMediaType(
            sent,
            detail=f'Send JSON with the header "Content-Type: application/json" (this request has "{sent}").',
        )
    return drf_exception_handler(exc, context)  # also rolls back the request's transaction
