"""The API builds each request's FilterSet without deep copies (``msp_ops.api.filters.api_filterset``,
issue 12 item 1): the same filters, form fields, validation and messages as the FilterSet, and
nothing a request sets reaches the FilterSet's own filters or another request's."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from audits.filters import TimeEntryFilter
from audits.models import TimeEntry
from delegation.filters import InterruptionFilter
from kpis.filters import TicketFilter
from msp_ops.api.filters import StrictFilterBackend, api_filterset

CASES = [
    (TimeEntryFilter, "user=fran&tag=repetitive&category=tickets"),
    (TimeEntryFilter, "from=2025-01-01T00:00:00%2B00:00&to=2025-02-01T00:00:00-06:00"),
    (TimeEntryFilter, "from=yesterday&tag=lazy"),
    (TimeEntryFilter, "from=2025-01-01T00:00:00"),  # naive
    (TimeEntryFilter, ""),
    (InterruptionFilter, "channel=call"),
    (InterruptionFilter, "channel=carrier-pigeon"),
    (TicketFilter, "severity=p1"),
    (TicketFilter, "severity=p9&open=maybe"),
]


@pytest.mark.parametrize(("filterset_class", "query"), CASES)
def test_the_api_filterset_validates_as_the_filterset(filterset_class, query):
    data = QueryDict(query)
    queryset = filterset_class._meta.model.objects.all()
    ours = api_filterset(filterset_class)(data, queryset)
    theirs = filterset_class(data, queryset)
    assert list(ours.filters) == list(theirs.filters) == list(filterset_class.base_filters)
    assert list(ours.form.fields) == list(theirs.form.fields)
    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    assert ours.form.cleaned_data == theirs.form.cleaned_data


@pytest.mark.django_db
def test_each_request_has_its_own_filters_and_form():
    queryset = TimeEntry.objects.all()
    fast = api_filterset(TimeEntryFilter)
    assert fast is api_filterset(TimeEntryFilter)
    assert issubclass(fast, TimeEntryFilter)
    one, two = fast(QueryDict("tag=repetitive"), queryset), fast(QueryDict("tag=lazy"), queryset)
    for name, filter_ in one.filters.items():
        assert filter_ is not two.filters[name]
        assert filter_ is not TimeEntryFilter.base_filters[name]
        assert filter_.parent is one
        assert two.filters[name].parent is two
        assert getattr(TimeEntryFilter.base_filters[name], "parent", None) is None
        if filter_.method is not None:  # a method filter calls its own filterset's method
            assert filter_.filter.f is filter_
    assert one.form is not two.form
    assert type(one.form) is type(two.form)
    assert one.form.fields["tag"] is not two.form.fields["tag"]
    assert one.is_valid()
    assert not two.is_valid()
    assert "tag" in two.errors
    assert "tag" not in one.errors
    # A method filter runs against its own request's form (filter_tag, filter_user).
    assert "tag_repetitive" in str(one.qs.query)


@pytest.mark.parametrize("filterset_class", [TimeEntryFilter, InterruptionFilter, TicketFilter])
def test_a_filterset_given_no_filter_returns_its_queryset_unfiltered(filterset_class):
    """What ``StrictFilterBackend`` relies on to build no FilterSet for a request that names no
    filter: a FilterSet given no filter's value filters nothing."""
    queryset = filterset_class._meta.model.objects.all()
    filtered = api_filterset(filterset_class)(QueryDict("page_size=1&cursor=x"), queryset).qs
    assert str(filtered.query) == str(queryset.query)


@pytest.mark.parametrize(
    ("query", "built"),
    [("", False), ("?page_size=2", False), ("?channel=call", True), ("?channel=", True), ("?week=x", True)],
)
def test_a_list_builds_a_filterset_only_when_a_parameter_names_a_filter(api, monkeypatch, query, built):
    made = []
    original = StrictFilterBackend.get_filterset
    monkeypatch.setattr(StrictFilterBackend, "get_filterset", lambda *args: made.append(1) or original(*args))
    response = api.get(f"/api/v1/interruptions/{query}")
    assert bool(made) is built
    assert response.status_code == (400 if query in ("?channel=", "?week=x") else 200)
