"""/api/v1/: one router for every app's viewsets, plus the OpenAPI schema and offline docs.

Each app lists its ``routes`` in a module its ``MspApp.api_routes`` names (``msp_ops.plugins``).
The schema (``/api/schema/``) and the docs (``/api/docs/``: Swagger UI from
drf-spectacular-sidecar's static files, no CDN) are public: they describe the API and hold
no data; every ``/api/v1/`` endpoint needs a token. (No Redoc: its page loads Google Fonts.)

Every answer under ``/api/`` is JSON: any other path (an id that is no whole number, a typo,
a missing trailing slash) answers 404 ``{"detail": "Not found."}`` here rather than Django's
page, and the project's ``handler400`` / ``handler500`` answer JSON for ``/api/`` paths. The
views read bodies sent without ``Content-Length`` (``parsers.reads_chunked_bodies``).
"""

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, URLResolver, include, path, re_path, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from msp_ops import plugins
from msp_ops.api.parsers import detail_response, reads_chunked_bodies

API_PREFIX = "/api/"


class ApiRouter(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = ApiRouter(trailing_slash=True)
for prefix, viewset, basename in plugins.api_routes():
    router.register(prefix, viewset, basename=basename)


@csrf_exempt
def not_found(request: HttpRequest, path: str = "") -> JsonResponse:
    """Any path under /api/ that names no endpoint, whatever the method."""
    detail = "Not found."
    if not request.path_info.endswith("/"):
        try:
            missing_slash = resolve(f"{request.path_info}/").func is not not_found
        except Resolver404:
            missing_slash = False
        if missing_slash:
            detail = f"Not found. The API's paths end with a slash: {request.path}/"
    return detail_response(detail, 404)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: JSON under /api/ (e.g. a Host header not in ALLOWED_HOSTS), else Django's page."""
    if request.path_info.startswith(API_PREFIX):
        return detail_response("Bad request.", 400)
    return defaults.bad_request(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: JSON under /api/, else the error page (the error is logged either way)."""
    if request.path_info.startswith(API_PREFIX):
        return detail_response("Server error: the request failed and was logged.", 500)
    return defaults.server_error(request)


urlpatterns = [
    path("v1/", include([*plugins.api_paths(), *router.urls])),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]


def _read_chunked_bodies(patterns: list) -> None:
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            _read_chunked_bodies(pattern.url_patterns)
        else:
            pattern.callback = reads_chunked_bodies(pattern.callback)


_read_chunked_bodies(urlpatterns)
urlpatterns.append(re_path(r"^(?P<path>.*)$", not_found))  # last: every other path, JSON too
