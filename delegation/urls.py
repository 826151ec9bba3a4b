from django.urls import path  # noqa: F401

app_name = "delegation"

# Interruptions, drills and time blocks.
interruption_urls: list = []

# Delegations board, delegates, runbooks and the escalation map.
board_urls: list = []

urlpatterns = [*interruption_urls, *board_urls]
