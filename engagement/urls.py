from .views import map as map_page
from .views import trends

app_name = "engagement"

# Each page family's module lists its own routes under /council/<council_slug>/.
urlpatterns = [
    *trends.urlpatterns,
    *map_page.urlpatterns,
]
