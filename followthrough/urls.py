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

# A filter that cannot be read (tracking.params.BadParameter) is named on the 400 page.
handler400 = "web.views.errors.bad_request"
