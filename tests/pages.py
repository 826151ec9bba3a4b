"""What the page tests share: a logged-in client per member and a clock pinned for a module."""

from __future__ import annotations

from datetime import datetime

import pytest
import time_machine
from django.test import Client


def client_for(user) -> Client:
    """A browser session of ``user`` (logged in without the login form)."""
    client = Client()
    client.force_login(user)
    return client


def pinned_clock(now: datetime):
    """An autouse fixture that stops the clock at ``now`` for every test of the module that
    assigns it (``_pinned_clock = pinned_clock(NOW)``)."""

    @pytest.fixture(autouse=True)
    def _pinned_clock():
        with time_machine.travel(now, tick=False):
            yield

    return _pinned_clock
