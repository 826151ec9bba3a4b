from django.db import connection


def test_suite_runs_on_postgresql(db):
    assert connection.vendor == "postgresql"


def test_login_page_renders(client):
    response = client.get("/login/")
    assert response.status_code == 200
    assert b"Log in" in response.content
