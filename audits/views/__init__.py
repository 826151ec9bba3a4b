"""The founder's pages of the 7-day time audit: Today, audits, the report, categories (issue 4).

Views stay thin (STYLE 3): scope to ``request.org``, check shape with a form, call one
service or selector, render. htmx requests get a partial (``wants_partial``); a refused
write answers 422 with the form and its message, which the page's htmx config swaps in.
Without JavaScript every form still works with plain POSTs and redirects.
"""

from audits.views.audit_pages import audit_detail, audit_list, audit_report_page
from audits.views.categories import categories, category_archive, category_update
from audits.views.csv_pages import csv_page
from audits.views.today import (
    entry_add,
    entry_delete,
    entry_edit,
    entry_row,
    entry_toggle_tag,
    quick_add,
    timer,
    timer_discard,
    timer_start,
    timer_stop,
    today,
)

__all__ = [
    "audit_detail",
    "audit_list",
    "audit_report_page",
    "categories",
    "category_archive",
    "category_update",
    "csv_page",
    "entry_add",
    "entry_delete",
    "entry_edit",
    "entry_row",
    "entry_toggle_tag",
    "quick_add",
    "timer",
    "timer_discard",
    "timer_start",
    "timer_stop",
    "today",
]
