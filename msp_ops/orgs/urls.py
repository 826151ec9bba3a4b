from django.urls import path

from msp_ops.orgs import views

app_name = "orgs"
urlpatterns = [
    path("switch/", views.switch_organization, name="switch"),
    path("tokens/", views.api_tokens, name="api_tokens"),
    path("tokens/<int:pk>/revoke/", views.revoke_token, name="revoke_token"),
]
