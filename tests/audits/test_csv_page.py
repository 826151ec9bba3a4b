"""The Import/export page: upload, the per-row report, import for another member, download."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from audits.models import TimeEntry
from tests.factories import TimeEntryFactory

DATA = Path(__file__).parent / "data"
URL = "/audits/csv/"
BAD = (
    b"started_at,ended_at,activity\n"
    b"2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage\n"
    b"2025-03-03T09:00:00-06:00,2025-03-03T08:00:00-06:00,Backwards\n"
)


def _upload(name: str = "toggl_detailed.csv", data: bytes | None = None) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data if data is not None else (DATA / name).read_bytes(), "text/csv")


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_page_offers_upload_and_export(founder_client):
    response = founder_client.get(URL)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'hx-post="/audits/csv/"' in body
    assert 'name="skip_bad_rows"' in body
    assert 'name="member"' in body  # a founder may import for others
    assert "Download CSV" in body


def test_technician_sees_no_member_choice(technician):
    body = _client(technician).get(URL).content.decode()
    assert 'name="member"' not in body


def test_viewer_may_not_use_the_page(viewer):
    assert _client(viewer).get(URL).status_code == 403


def test_upload_shows_counts_and_stores_the_entries(founder_client, founder, org):
    response = founder_client.post(URL, {"file": _upload(), "format": ""})
    assert response.status_code == 200
    body = response.content.decode()
    assert "Toggl Track detailed CSV, 4 rows: 4 created, 0 updated." in body
    assert TimeEntry.objects.for_org(org).filter(user=founder).count() == 4


def test_htmx_upload_answers_the_result_panel_only(founder_client):
    response = founder_client.post(URL, {"file": _upload()}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body
    assert '<div class="stat" data-figure="created">4</div>' in body


def test_file_with_a_bad_row_shows_the_error_table_and_stores_nothing(founder_client, org):
    response = founder_client.post(URL, {"file": _upload("bad.csv", BAD)})
    assert response.status_code == 400
    body = response.content.decode()
    assert "nothing was stored because 1 row has errors" in body
    assert (
        '<tr><td class="num">3</td><td>ended_at</td><td>The entry must end after it starts.</td></tr>' in body
    )
    assert not TimeEntry.objects.exists()


def test_an_id_of_a_superscript_digit_is_a_row_error_not_a_500(founder_client):
    data = "id,started_at,ended_at,activity\n²,2025-03-03T08:00:00-06:00,2025-03-03T08:30:00-06:00,Triage\n"
    response = founder_client.post(URL, {"file": _upload("ids.csv", data.encode())})
    assert response.status_code == 400
    body = response.content.decode()
    assert "nothing was stored because 1 row has errors" in body
    assert (
        '<tr><td class="num">2</td><td>id</td>'
        "<td>No entry #² of &#x27;fran&#x27; in this organization; clear the id to create it.</td></tr>"
    ) in body
    assert not TimeEntry.objects.exists()


def test_skip_bad_rows_from_the_page(founder_client):
    response = founder_client.post(URL, {"file": _upload("bad.csv", BAD), "skip_bad_rows": "on"})
    assert response.status_code == 200
    assert "msp-ops CSV, 2 rows: 1 created, 0 updated, 1 skipped." in response.content.decode()
    assert list(TimeEntry.objects.values_list("activity", flat=True)) == ["Triage"]


def test_broken_file_gets_one_message(founder_client):
    response = founder_client.post(URL, {"file": _upload("empty.csv", b"\n")})
    assert response.status_code == 400
    assert '<p class="msg msg-error" role="alert" id="csv-file-error">The file is empty.</p>' in (
        response.content.decode()
    )


def test_founder_imports_for_a_technician(founder_client, technician, org):
    response = founder_client.post(URL, {"file": _upload(), "member": technician.pk})
    assert response.status_code == 200
    assert "(for tess)" in response.content.decode()
    assert TimeEntry.objects.for_org(org).filter(user=technician).count() == 4


def test_technician_may_not_import_for_the_founder(technician, founder):
    response = _client(technician).post(URL, {"file": _upload(), "member": founder.pk})
    assert response.status_code == 403
    assert not TimeEntry.objects.exists()


def test_technician_imports_own_entries(technician):
    response = _client(technician).post(URL, {"file": _upload(), "member": technician.pk})
    assert response.status_code == 200
    assert TimeEntry.objects.filter(user=technician).count() == 4


@pytest.mark.usefixtures("stranger")
def test_member_of_another_org_is_not_selectable(founder_client, stranger):
    assert f'value="{stranger.pk}"' not in founder_client.get(URL).content.decode()
    response = founder_client.post(URL, {"file": _upload(), "member": stranger.pk})
    assert response.status_code == 400
    assert "Select a valid choice" in response.content.decode()
    assert not TimeEntry.objects.exists()


def test_export_download(founder_client, founder, technician, org):
    TimeEntryFactory(organization=org, user=founder, activity="Quote for Acme")
    TimeEntryFactory(organization=org, user=technician, activity="Printer mapping")

    response = founder_client.get(URL, {"export": "csv", "member": technician.pk})

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="acme-it-time-entries-')
    body = response.content.decode()
    assert body.startswith("id,external_id,user,started_at,")
    assert "Printer mapping" in body
    assert "Quote for Acme" not in body
    everyone = founder_client.get(URL, {"export": "csv"}).content.decode()
    assert "Printer mapping" in everyone
    assert "Quote for Acme" in everyone


def test_technician_exports_only_own_entries(founder, technician, org):
    TimeEntryFactory(organization=org, user=founder, activity="Quote for Acme")
    TimeEntryFactory(organization=org, user=technician, activity="Printer mapping")
    client = _client(technician)
    body = client.get(URL, {"export": "csv"}).content.decode()
    assert "Printer mapping" in body
    assert "Quote for Acme" not in body
    assert client.get(URL, {"export": "csv", "member": founder.pk}).status_code == 403


def test_export_with_bad_dates_shows_the_form_error(founder_client):
    response = founder_client.get(URL, {"export": "csv", "date_from": "2025-03-10", "date_to": "2025-03-03"})
    assert response.status_code == 400
    assert "The end date is before the start date." in response.content.decode()


def test_oversized_upload_is_refused(founder_client):
    response = founder_client.post(URL, {"file": _upload("big.csv", b"a" * (5 * 1024 * 1024 + 1))})
    assert response.status_code == 400
    assert "The file is larger than 5 MB; split it into smaller files." in response.content.decode()
