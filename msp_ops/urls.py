from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.templatetags.static import static
from django.urls import include, path
from django.utils.functional import lazy
from django.views.generic import RedirectView

from msp_ops import plugins
from msp_ops.orgs import views as org_views

urlpatterns = [
    path("", org_views.home, name="home"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", org_views.LogoutView.as_view(), name="logout"),
    path("no-organization/", org_views.no_organization, name="no_organization"),
    path("org/", include("msp_ops.orgs.urls")),
    path("api/", include("msp_ops.api.urls")),
    path("admin/", admin.site.urls),
    # Asked for whatever base.html links (feed readers, bookmarks); the file's name is hashed
    # after collectstatic, so a temporary redirect, resolved per request.
    path("favicon.ico", RedirectView.as_view(url=lazy(static, str)("favicon.svg"))),
    *plugins.page_urls(),  # each app's pages (msp_ops.plugins)
]

# JSON for /api/ paths, Django's pages elsewhere (404s under /api/: msp_ops.api.urls.not_found).
handler400 = "msp_ops.api.urls.bad_request"
handler500 = "msp_ops.api.urls.server_error"
