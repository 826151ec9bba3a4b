"""/api/v1/: one router for every app's viewsets, plus the OpenAPI schema and offline docs.

Each app lists its ``routes`` in ``<app>/api/urls.py``; add the module to ``APP_ROUTES``.
The schema (``/api/schema/``) and the docs (``/api/docs/``: Swagger UI from
drf-spectacular-sidecar's static files, no CDN) are public: they describe the API and hold
no data; every ``/api/v1/`` endpoint needs a token. (No Redoc: its page loads Google Fonts.)
"""

from importlib import import_module

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

APP_ROUTES = ["audits.api.urls"]


class ApiRouter(DefaultRouter):
    include_root_view = False
    include_format_suffixes = False


router = ApiRouter(trailing_slash=True)
for module in APP_ROUTES:
    for prefix, viewset, basename in import_module(module).routes:
        router.register(prefix, viewset, basename=basename)

urlpatterns = [
    path("v1/", include(router.urls)),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
