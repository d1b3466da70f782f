app_name = "engagement"

# Each page family's module lists its own routes under /council/<council_slug>/.
urlpatterns = []
