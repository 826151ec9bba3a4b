"""The categories page: add, rename or re-kind, archive and unarchive."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.views.decorators.http import require_http_methods, require_POST

from audits import services
from audits.forms import (
    CategoryForm,
    CategoryUpdateForm,
    attach_service_errors,
)
from audits.models import Category, CategoryKind
from audits.views.common import UNPROCESSABLE, render_local
from msp_ops.orgs.access import org_view
from msp_ops.orgs.roles import Perm
from msp_ops.orgs.scoping import org_object_or_404

# --- categories -------------------------------------------------------------------------


@org_view(Perm.MANAGE_AUDITS)
@require_http_methods(["GET", "POST"])
def categories(request: HttpRequest) -> HttpResponse:
    form = CategoryForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            try:
                category = services.create_category(org=request.org, **form.cleaned_data)
            except ValidationError as error:
                attach_service_errors(form, error)
            else:
                messages.success(request, f"Category “{category.name}” added: use it as @{category.slug}.")
                return redirect("audits:categories")
        status = UNPROCESSABLE
    rows = [
        (
            category,
            CategoryUpdateForm(
                initial={"name": category.name, "kind": category.kind}, prefix=f"c{category.pk}"
            ),
        )
        for category in Category.objects.for_org(request.org)
    ]
    context = {"nav": "categories", "form": form, "rows": rows, "kinds": CategoryKind.choices}
    return render_local(request, "audits/categories.html", context, status)


@org_view(Perm.MANAGE_AUDITS)
@require_POST
def category_update(request: HttpRequest, pk: int) -> HttpResponse:
    category = org_object_or_404(request, Category, pk=pk)
    form = CategoryUpdateForm(request.POST, prefix=f"c{category.pk}")
    if form.is_valid():
        try:
            services.update_category(category=category, **form.cleaned_data)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
        else:
            messages.success(request, f"Saved “{category.name}”.")
    else:
        messages.error(request, " ".join(m for errors in form.errors.values() for m in errors))
    return redirect("audits:categories")


@org_view(Perm.MANAGE_AUDITS)
@require_POST
def category_archive(request: HttpRequest, pk: int) -> HttpResponse:
    category = org_object_or_404(request, Category, pk=pk)
    archived = request.POST.get("archived", "1") == "1"
    try:
        services.archive_category(category=category, archived=archived)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        state = "archived: old entries keep it" if archived else "back in use"
        messages.success(request, f"“{category.name}” {state}.")
    return redirect("audits:categories")
