from django.urls import include, path

from tracking.admin import site as admin_site

urlpatterns = [
    path("admin/", admin_site.urls),
    path("accounts/", include("web.urls_accounts")),
    path("api/", include("api.urls")),
    path("", include("web.urls")),
]
