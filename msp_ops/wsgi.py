import gc
import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "msp_ops.settings")
application = get_wsgi_application()

# Every module a request needs, loaded now (the URLconf imports every view, serializer and
# plugin), then left out of the garbage collector's passes: a worker's ~150,000 objects of
# code and configuration live as long as it does, and a full pass over them took 100 ms
# every twenty-odd list pages. Young objects are collected after 10,000 allocations, not
# 700, so a page of 1000 rows (20,000 dicts and tuples, freed by reference counting) no
# longer runs thirty passes (issue 12: about 1.5 ms of a page).
get_resolver().url_patterns  # noqa: B018 (imported for its side effect)
gc.freeze()
gc.set_threshold(10_000, 10, 10)
