from django.urls import include, path

from tracking.admin import site as admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("accounts/", include("web.urls_accounts")),
    path("", include("web.urls")),
]

# A filter that cannot be read (tracking.params.BadParameter) is named on the 400 page.
handler400 = "web.views.errors.bad_request"
