import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

from msp_ops.lib.heap import freeze_startup_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msp_ops.settings")
application = get_wsgi_application()

# Every module a request needs, loaded now (the URLconf imports every view, serializer and
# plugin), then left out of the garbage collector's passes (msp_ops.lib.heap; issue 12: about
# 1.5 ms of a list page).
get_resolver().url_patterns  # noqa: B018 (imported for its side effect)
freeze_startup_heap()
