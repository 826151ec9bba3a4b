"""``{% url %}`` and ``|date`` remember their answers (msp_ops/lib/remembered_tags.py), and
answer what Django's own would, whatever changed between two renders."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import engines
from django.template.defaultfilters import date as django_date
from django.test import override_settings
from django.urls import NoReverseMatch, include, path, reverse, set_script_prefix
from django.utils import timezone, translation

from msp_ops.lib.remembered_tags import RememberedURLNode, _date_text, _reverse


def render(text: str, **context) -> str:
    return engines["django"].from_string(text).render(context)


def test_every_template_gets_the_remembering_url_tag():
    template = engines["django"].from_string("{% url 'kpis:dashboard' %}")
    assert isinstance(template.template.nodelist[0], RememberedURLNode)


@pytest.mark.parametrize(
    ("text", "context", "expected"),
    [
        ("{% url 'kpis:dashboard' %}", {}, reverse("kpis:dashboard")),
        ("{% url 'kpis:todo_done' pk %}", {"pk": 12}, reverse("kpis:todo_done", args=[12])),
        ("{% url 'kpis:todo_done' pk=pk %}", {"pk": "7"}, reverse("kpis:todo_done", kwargs={"pk": 7})),
        ("{% url 'kpis:todo_done' 3 as link %}[{{ link }}]", {}, f"[{reverse('kpis:todo_done', args=[3])}]"),
        ("{% url 'kpis:todo_done' 99 as link %}", {}, ""),
    ],
)
def test_urls_are_django_s_twice_over(text, context, expected):
    assert render(text, **context) == expected
    assert render(text, **context) == expected  # the remembered answer


def test_the_second_render_is_remembered_not_reversed_again():
    _reverse.cache_clear()
    _date_text.cache_clear()
    for _ in range(2):
        render("{% url 'kpis:todo_done' 5 %} {{ d|date:'j M' }}", d=date(2026, 11, 23))
    assert (_reverse.cache_info().hits, _reverse.cache_info().misses) == (1, 1)
    assert (_date_text.cache_info().hits, _date_text.cache_info().misses) == (1, 1)


def test_another_pk_is_another_url_and_a_missing_route_still_raises():
    assert render("{% url 'kpis:todo_done' pk %}", pk=1) == "/kpis/todos/1/done/"
    assert render("{% url 'kpis:todo_done' pk %}", pk=2) == "/kpis/todos/2/done/"
    with pytest.raises(NoReverseMatch):
        render("{% url 'kpis:todo_done' %}")
    assert render("{% url 'kpis:nowhere' as link %}-{{ link }}") == "-"


def test_a_site_served_under_a_prefix_gets_its_prefixed_urls():
    plain = render("{% url 'kpis:dashboard' %}")
    set_script_prefix("/ops/")
    try:
        assert render("{% url 'kpis:dashboard' %}") == "/ops" + plain
    finally:
        set_script_prefix("/")
    assert render("{% url 'kpis:dashboard' %}") == plain


def test_a_date_is_written_in_the_active_language():
    monday = date(2026, 11, 23)
    assert render("{{ d|date:'D j M' }}", d=monday) == "Mon 23 Nov"
    with translation.override("de"):
        assert render("{{ d|date:'D j M' }}", d=monday) == django_date(monday, "D j M") == "Mo 23 Nov"
    assert render("{{ d|date:'D j M' }}", d=monday) == "Mon 23 Nov"


def _nowhere(request):  # pragma: no cover - never called, only reversed
    raise AssertionError


urlpatterns = [path("elsewhere/", include(([path("", _nowhere, name="dashboard")], "kpis")))]


def test_another_urlconf_is_followed():
    assert render("{% url 'kpis:dashboard' %}") == "/kpis/"
    with override_settings(ROOT_URLCONF=__name__):
        assert render("{% url 'kpis:dashboard' %}") == "/elsewhere/"
    assert render("{% url 'kpis:dashboard' %}") == "/kpis/"


def test_timestamps_are_written_in_the_current_zone_each_time():
    # Two instants an hour apart that read the same on Chicago's clock (the fall-back hour).
    first, second = datetime(2026, 11, 1, 6, 30, tzinfo=UTC), datetime(2026, 11, 1, 7, 30, tzinfo=UTC)
    with timezone.override(ZoneInfo("America/Chicago")):
        assert render("{{ t|date:'c' }}", t=first) == "2026-11-01T01:30:00-05:00"
        assert render("{{ t|date:'c' }}", t=second) == "2026-11-01T01:30:00-06:00"
    with timezone.override(ZoneInfo("Europe/Berlin")):
        assert render("{{ t|date:'c' }}", t=first) == "2026-11-01T07:30:00+01:00"
