from .views import asks, core, council, decisions, outcomes, volunteering

app_name = "initiatives"

# Each feature's module lists its own routes.
urlpatterns = [
    *core.urlpatterns,
    *volunteering.urlpatterns,
    *asks.urlpatterns,
    *decisions.urlpatterns,
    *outcomes.urlpatterns,
    *council.urlpatterns,
]
