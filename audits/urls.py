from django.urls import path

from audits import csv_views, views

app_name = "audits"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("", views.audit_list, name="audit_list"),
    path("csv/", csv_views.csv_page, name="csv"),
]
