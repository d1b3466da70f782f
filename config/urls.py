from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path

from core import views as core_views

admin.site.login = secure_admin_login(admin.site.login)
admin.site.site_header = "Stronger Streets"

urlpatterns = [
    path("", include("core.urls")),
    path("healthz", core_views.healthz, name="healthz"),
    path("accounts/", include("accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("", include("neighbourhoods.urls")),
    path("", include("initiatives.urls")),
    path("", include("notifications.urls")),
    path("", include("moderation.urls")),
    path("", include("engagement.urls")),
    path("", include("engagement.api.urls")),
    path("admin/", admin.site.urls),
]
