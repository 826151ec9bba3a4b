"""The API clients of each role, shared with tests/api."""

from tests.api.conftest import manager_api, stranger_api, tech_api, viewer_api  # noqa: F401
