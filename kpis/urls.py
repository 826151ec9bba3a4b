from django.urls import path

from kpis.views import dashboard, settings_page, standup, todos

app_name = "kpis"

urlpatterns = [
    path("", dashboard.dashboard, name="dashboard"),
    path("weekly.csv", dashboard.weekly_csv, name="weekly_csv"),
    path("rollup/", dashboard.rollup_request, name="rollup_request"),
    path("rollup/<int:pk>/", dashboard.rollup_progress, name="rollup_progress"),
    path("standup/", standup.standup_page, name="standup"),
    path("todos/", todos.todo_list, name="todo_list"),
    path("todos/new/", todos.todo_new, name="todo_new"),
    path("todos/agenda/", todos.agenda_todos, name="agenda_todos"),
    path("todos/<int:pk>/done/", todos.todo_done, name="todo_done"),
    path("settings/", settings_page.kpi_settings, name="settings"),
]
