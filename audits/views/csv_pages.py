"""The CSV import/export page (SPEC 5): upload a file, read the per-row report, download entries.

Only the member's own entries unless the role may log time for others (founder, service
manager), who choose the member among this organization's members.
"""

from __future__ import annotations

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from audits.csvio import FORMAT_LABELS, MAX_BYTES, MAX_ROWS, CsvFileError, import_entries, write_entries_csv
from audits.models import Category
from msp_ops.lib.htmx import wants_partial
from msp_ops.lib.weeks import today
from msp_ops.orgs.access import org_view, row_access
from msp_ops.orgs.models import Membership, Organization, Role
from msp_ops.orgs.roles import WRITE_TIME_ENTRIES, Access, Perm, role_can

User = get_user_model()


def _members(org: Organization):
    """Members whose role logs time: the only ones an import or export may be for."""
    roles = [role for role in Role.values if role_can(role, Perm.LOG_OWN_TIME)]
    ids = Membership.objects.for_org(org).filter(role__in=roles).values("user_id")
    return User.objects.filter(pk__in=ids).order_by("username")


class ImportForm(forms.Form):
    file = forms.FileField(label="CSV file")
    format = forms.ChoiceField(
        choices=[
            ("", "Detect from the header"),
            *((fmt.value, label) for fmt, label in FORMAT_LABELS.items()),
        ],
        required=False,
    )
    skip_bad_rows = forms.BooleanField(required=False, label="Skip bad rows (store the good ones)")
    member = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label="Import for")

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = _members(org)
        self.fields["member"].label_from_instance = lambda user: user.get_username()


class ExportForm(forms.Form):
    member = forms.ModelChoiceField(
        queryset=User.objects.none(), required=False, empty_label="All members", label="Member"
    )
    date_from = forms.DateField(required=False, label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, label="To", widget=forms.DateInput(attrs={"type": "date"}))
    category = forms.ModelChoiceField(
        queryset=Category.objects.none(), required=False, empty_label="All categories", to_field_name="slug"
    )

    def __init__(self, *args, org: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = _members(org)
        self.fields["member"].label_from_instance = lambda user: user.get_username()
        self.fields["category"].queryset = Category.objects.for_org(org)

    def clean(self):
        data = super().clean()
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            self.add_error("date_to", "The end date is before the start date.")
        return data


@org_view(Perm.LOG_OWN_TIME)
def csv_page(request: HttpRequest) -> HttpResponse:
    for_others = row_access(request, WRITE_TIME_ENTRIES) is Access.ALL
    context = {
        "nav": "csv",
        "for_others": for_others,
        "max_rows": MAX_ROWS,
        "max_mb": MAX_BYTES // (1024 * 1024),
        "report": None,
        "file_error": None,
    }
    import_form = ImportForm(org=request.org, initial={"member": request.user.pk})
    export_form = ExportForm(org=request.org)
    status = 200

    if request.method == "POST":
        import_form = ImportForm(request.POST, request.FILES, org=request.org)
        if import_form.is_valid():
            member = import_form.cleaned_data["member"] or request.user
            if member != request.user and not for_others:
                raise PermissionDenied("Your role may only import your own entries.")
            try:
                context["report"] = import_entries(
                    org=request.org,
                    member=member,
                    # One byte over the limit is enough to refuse an oversized file without reading it all.
                    data=import_form.cleaned_data["file"].read(MAX_BYTES + 1),
                    fmt=import_form.cleaned_data["format"] or None,
                    skip_bad_rows=import_form.cleaned_data["skip_bad_rows"],
                )
            except CsvFileError as error:
                context["file_error"] = str(error)
            context["member"] = member
        if not import_form.is_valid() or context["file_error"] or context["report"].refused:
            status = 400
    elif "export" in request.GET:
        export_form = ExportForm(request.GET, org=request.org)
        if export_form.is_valid():
            return _download(request, export_form, for_others)
        status = 400

    context.update(import_form=import_form, export_form=export_form)
    if wants_partial(request) and request.method == "POST":
        # htmx swaps only 2xx answers; the panel itself says what was refused.
        return render(request, "audits/partials/csv_result.html", context)
    return render(request, "audits/csv.html", context, status=status)


def _download(request: HttpRequest, form: ExportForm, for_others: bool) -> HttpResponse:
    member = form.cleaned_data["member"]
    if not for_others:
        # Others' entries are not offered; a hand-made URL asking for them is refused.
        if member is not None and member != request.user:
            raise PermissionDenied("Your role may only export your own entries.")
        member = request.user
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    name = f"{request.org.slug}-time-entries-{today(request.org.tz):%Y-%m-%d}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    write_entries_csv(
        org=request.org,
        out=response,
        user=member,
        date_from=form.cleaned_data["date_from"],
        date_to=form.cleaned_data["date_to"],
        category=form.cleaned_data["category"],
    )
    return response
