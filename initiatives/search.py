"""Full-text search over initiatives.

On PostgreSQL each initiative keeps its search document in a stored, generated column (`Initiative.search_document`)
with a GIN index, so a search reads the index instead of building every initiative's document again, and ranks only
the initiatives that match. The English configuration finds "gardening" for "garden"; the 'simple' one (no stemming,
no stop words) lets Welsh and other words match as written. Titles weigh most, then summaries, then descriptions.

The embedded SQLite default has no full-text search: there the column is always empty and a search asks for every
word somewhere in the three fields instead.
"""

from django.contrib.postgres.search import SearchQuery, SearchRank, SearchVector, SearchVectorField
from django.db import connection
from django.db.models import F, Func, Q, QuerySet

INDEX_NAME = "initiative_search_gin"


def document():
    """The weighted search document of an initiative (see the module's docstring)."""
    return (
        SearchVector("title", config="english", weight="A")
        + SearchVector("summary", config="english", weight="B")
        + SearchVector("description", config="english", weight="C")
        + SearchVector("title", "summary", "description", config="simple", weight="D")
    )


class PostgresOnly(Func):
    """The expression on PostgreSQL, NULL elsewhere: what a generated column holds only where it can be computed."""

    template = "%(expressions)s"
    output_field = SearchVectorField()

    def as_sql(self, compiler, connection, **extra_context):
        if connection.vendor != "postgresql":
            return "NULL", []
        return super().as_sql(compiler, connection, **extra_context)


def search(initiatives: QuerySet, text: str) -> QuerySet:
    """`initiatives` matching `text`, best matches first (newest first among equals)."""
    if connection.vendor == "postgresql":
        query = SearchQuery(text, config="english", search_type="websearch") | SearchQuery(
            text, config="simple", search_type="websearch"
        )
        return (
            initiatives.filter(search_document=query)
            .annotate(rank=SearchRank(F("search_document"), query))
            .order_by("-rank", "-created_at", "-pk")
        )
    for word in text.split():
        initiatives = initiatives.filter(
            Q(title__icontains=word) | Q(summary__icontains=word) | Q(description__icontains=word)
        )
    return initiatives
