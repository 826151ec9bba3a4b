from django.urls import path

from delegation.views import (
    board,
    delegates,
    drills,
    escalation,
    interruptions,
    runbooks,
    time_blocks,
)

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
board_urls: list = [
    path("board/", board.board, name="board"),
    path("delegations/new/", board.delegation_create, name="delegation_create"),
    path("delegations/<int:pk>/", board.delegation_detail, name="delegation_detail"),
    path("delegations/<int:pk>/edit/", board.delegation_edit, name="delegation_edit"),
    path("delegations/<int:pk>/move/", board.delegation_move, name="delegation_move"),
    path("delegations/<int:pk>/checklist/", board.delegation_checklist, name="delegation_checklist"),
    path("delegations/<int:pk>/delete/", board.delegation_delete, name="delegation_delete"),
    path("audits/<int:pk>/candidate/", board.candidate_from_audit, name="candidate_from_audit"),
    path("delegates/", delegates.delegate_list, name="delegate_list"),
    path("delegates/<int:pk>/", delegates.delegate_detail, name="delegate_detail"),
    path("delegates/<int:pk>/edit/", delegates.delegate_edit, name="delegate_edit"),
    path("delegates/<int:pk>/active/", delegates.delegate_active, name="delegate_active"),
    path("delegates/<int:pk>/delete/", delegates.delegate_delete, name="delegate_delete"),
    path("runbooks/", runbooks.runbook_list_page, name="runbook_list"),
    path("runbooks/new/", runbooks.runbook_create, name="runbook_create"),
    path("runbooks/<int:pk>/", runbooks.runbook_detail, name="runbook_detail"),
    path("runbooks/<int:pk>/edit/", runbooks.runbook_edit, name="runbook_edit"),
    path("runbooks/<int:pk>/reviewed/", runbooks.runbook_reviewed, name="runbook_reviewed"),
    path("runbooks/<int:pk>/history/", runbooks.runbook_history, name="runbook_history"),
    path("runbooks/<int:pk>/history/<int:revision>/", runbooks.runbook_diff, name="runbook_diff"),
    path("escalation-map/", escalation.escalation_map, name="escalation_map"),
    path("escalation-map/edit/", escalation.escalation_map_edit, name="escalation_map_edit"),
]

urlpatterns = [*interruption_urls, *board_urls]
