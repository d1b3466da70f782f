"""The API's browsable docs: Swagger UI served from our own static files (drf-spectacular-sidecar), no CDN.

Our Content-Security-Policy allows only our own scripts and styles. drf-spectacular's split view serves the page's
start-up script as a file of its own, and our template leaves out the stock page's inline <style>, so the docs work
under the site-wide policy unchanged.
"""

from drf_spectacular.views import SpectacularSwaggerSplitView


class ApiDocs(SpectacularSwaggerSplitView):
    template_name = "engagement/api_docs.html"
    url_name = "api:schema"
    title = "Stronger Streets council API"
