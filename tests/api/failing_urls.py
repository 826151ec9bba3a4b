"""The project's URLconf (and its error handlers) plus a view that fails, under /api/ and not."""

from django.urls import path

from msp_ops.urls import handler400, handler500  # noqa: F401 (the handlers)
from msp_ops.urls import urlpatterns as project_urls


def fail(request):
    raise RuntimeError("a bug")


urlpatterns = [path("api/fail/", fail), path("fail/", fail), *project_urls]
