from .views import levelling_up, overview, team, trends
from .views import map as map_page

app_name = "engagement"

# Each page family's module lists its own routes under /council/<council_slug>/.
urlpatterns = [
    *overview.urlpatterns,
    *levelling_up.urlpatterns,
    *trends.urlpatterns,
    *map_page.urlpatterns,
    *team.urlpatterns,
]
