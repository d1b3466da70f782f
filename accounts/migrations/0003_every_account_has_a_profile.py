"""Give a profile to any account made without one (through the admin or a shell), as new accounts now always get."""

from django.db import migrations


def add_missing_profiles(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    Profile = apps.get_model("accounts", "Profile")
    missing = User.objects.filter(profile__isnull=True).values_list("pk", "email")
    Profile.objects.bulk_create(
        [Profile(user_id=pk, display_name=(email or "").split("@")[0][:60] or "Neighbour") for pk, email in missing],
        batch_size=1000,
    )


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_profile_in_directory_tag_profile_interests_and_more")]

    operations = [migrations.RunPython(add_missing_profiles, migrations.RunPython.noop)]
