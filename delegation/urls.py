from django.urls import path

from delegation.views import drills, interruptions, time_blocks

app_name = "delegation"

# Interruptions, drills and time blocks.
interruption_urls: list = [
    path("interruptions/", interruptions.interruption_list, name="interruption_list"),
    path("interruptions/log/", interruptions.interruption_log, name="interruption_log"),
    path(
        "interruptions/<int:pk>/follow-up/",
        interruptions.interruption_follow_up,
        name="interruption_follow_up",
    ),
    path("interruptions/<int:pk>/delete/", interruptions.interruption_delete, name="interruption_delete"),
    path("drills/", drills.drill_list, name="drill_list"),
    path("drills/<int:pk>/", drills.drill_detail, name="drill_detail"),
    path("drills/<int:pk>/live/", drills.drill_live, name="drill_live"),
    path("drills/<int:pk>/complete/", drills.drill_complete, name="drill_complete"),
    path("drills/<int:pk>/end/", drills.drill_end, name="drill_end"),
    path("drills/<int:pk>/delete/", drills.drill_delete, name="drill_delete"),
    path("drills/<int:pk>/report/", drills.drill_report, name="drill_report"),
    path("time-blocks/", time_blocks.time_blocks, name="time_blocks"),
    path("time-blocks/<int:pk>/edit/", time_blocks.time_block_edit, name="time_block_edit"),
    path("time-blocks/<int:pk>/delete/", time_blocks.time_block_delete, name="time_block_delete"),
]

# Delegations board, delegates, runbooks and the escalation map.
board_urls: list = []

urlpatterns = [*interruption_urls, *board_urls]
