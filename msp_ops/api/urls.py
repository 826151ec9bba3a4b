"""/api/v1/: one router for every app's viewsets, plus the OpenAPI schema and offline docs.

Each app lists its ``routes`` in a module its ``MspApp.api_routes`` names (``msp_ops.plugins``).
The schema (``/api/schema/``) and the docs (``/api/docs/``: Swagger UI from
drf-spectacular-sidecar's static files, no CDN) are public: they describe the API and hold
no data; every ``/api/v1/`` endpoint needs a token. (No Redoc: its page loads Google Fonts.)
"""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from msp_ops import plugins


class ApiRouter(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = ApiRouter(trailing_slash=True)
for prefix, viewset, basename in plugins.api_routes():
    router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("v1/", include([*plugins.api_paths(), *router.urls])),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
