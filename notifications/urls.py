from .views import bell, preferences

app_name = "notifications"

# Each feature's module lists its own routes.
urlpatterns = [
    *bell.urlpatterns,
    *preferences.urlpatterns,
]
