"""The delegation app's API routes, registered on the one /api/v1/ router."""

from __future__ import annotations

routes: list = []
