from django.urls import path

from audits import views

app_name = "audits"
urlpatterns = [
    path("today/", views.today, name="today"),
    path("", views.audit_list, name="audit_list"),
    path("csv/", views.csv_page, name="csv"),
]
