"""Each initiative's search document, kept by the database in a stored column, and a GIN index over it.

PostgreSQL computes the column from the title, summary and description whenever they change; SQLite stores NULL
(see initiatives/search.py). The index is PostgreSQL's own kind, so it is made only there.
"""

import django.contrib.postgres.search
import initiatives.search
from django.db import migrations, models

INDEX = "initiative_search_gin"


def add_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX {INDEX} ON initiatives_initiative USING gin (search_document)")


def drop_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):

    dependencies = [
        ('initiatives', '0002_decision_outcome_key'),
    ]

    operations = [
        migrations.AddField(
            model_name='initiative',
            name='search_document',
            field=models.GeneratedField(db_persist=True, expression=initiatives.search.PostgresOnly(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.CombinedSearchVector(django.contrib.postgres.search.SearchVector('title', config='english', weight='A'), '||', django.contrib.postgres.search.SearchVector('summary', config='english', weight='B'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('description', config='english', weight='C'), django.contrib.postgres.search.SearchConfig('english')), '||', django.contrib.postgres.search.SearchVector('title', 'summary', 'description', config='simple', weight='D'), django.contrib.postgres.search.SearchConfig('english'))), output_field=django.contrib.postgres.search.SearchVectorField()),
        ),
        migrations.RunPython(add_index, drop_index),
    ]
