from django.urls import include, path

from api import pages as api_pages
from tracking.admin import site as admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("accounts/tokens/", api_pages.tokens, name="api_tokens"),
    path("accounts/", include("web.urls_accounts")),
    path("api/", include("api.urls")),
    path("", include("web.urls")),
]
