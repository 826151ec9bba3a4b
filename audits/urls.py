from django.urls import path

from audits import views

app_name = "audits"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("today/entries/", views.entry_add, name="entry_add"),
    path("today/quick-add/", views.quick_add, name="quick_add"),
    path("today/entries/<int:pk>/", views.entry_row, name="entry_row"),
    path("today/entries/<int:pk>/edit/", views.entry_edit, name="entry_edit"),
    path("today/entries/<int:pk>/delete/", views.entry_delete, name="entry_delete"),
    path("today/entries/<int:pk>/tags/<str:tag>/", views.entry_toggle_tag, name="entry_tag"),
    path("today/timer/", views.timer, name="timer"),
    path("today/timer/start/", views.timer_start, name="timer_start"),
    path("today/timer/stop/", views.timer_stop, name="timer_stop"),
    path("today/timer/discard/", views.timer_discard, name="timer_discard"),
    path("", views.audit_list, name="audit_list"),
    path("<int:pk>/", views.audit_detail, name="audit_detail"),
    path("<int:pk>/report/", views.audit_report_page, name="audit_report"),
    path("categories/", views.categories, name="categories"),
    path("categories/<int:pk>/", views.category_update, name="category_update"),
    path("categories/<int:pk>/archive/", views.category_archive, name="category_archive"),
    path("csv/", views.csv_page, name="csv"),
]
