"""Every account has a profile, however it was made, so pages and emails can rely on a name and a language."""

import pytest
from django.urls import reverse

from accounts.models import Profile, User
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_an_account_made_directly_is_given_a_profile_named_after_its_address():
    user = User.objects.create(email="sam.jones@example.org")
    assert (user.profile.display_name, user.profile.language) == ("sam.jones", "en-gb")
    user.save()  # saving again changes nothing
    assert Profile.objects.filter(user=user).count() == 1


def test_create_user_and_createsuperuser_keep_the_name_they_are_given():
    assert User.objects.create_user("a@example.org", None, display_name="Alys").profile.display_name == "Alys"
    assert User.objects.create_superuser("root@example.org", "pw-1234-abcd").profile.display_name == "root"


def test_an_account_added_in_the_admin_has_a_profile_and_its_pages_work(client):
    staff = User.objects.create_superuser("boss@example.org", "pw-1234-abcd")
    client.force_login(staff)
    response = client.post(
        reverse("admin:accounts_user_add"),
        {"email": "new.person@example.org", "password1": "a-long-pass-phrase-9", "password2": "a-long-pass-phrase-9"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    added = User.objects.get(email="new.person@example.org")
    assert added.profile.display_name == "new.person"
    # Its change page shows the profile to edit; saving it keeps the one profile.
    assert client.get(reverse("admin:accounts_user_change", args=[added.pk])).status_code == 200
    client.force_login(added)
    assert client.get(reverse("notifications:preferences")).status_code == 200


def test_the_preferences_page_copes_with_an_account_whose_profile_is_gone(client):
    user = UserFactory()
    Profile.objects.filter(user=user).delete()
    client.force_login(user)
    response = client.get(reverse("notifications:preferences"))
    assert response.status_code == 200
    assert response.context["form"].initial["language"] == "en-gb"  # the site's, until they choose


def test_filling_in_a_new_accounts_profile_updates_the_one_it_holds():
    from accounts import services
    from accounts.adapters import user_display

    user = User.objects.create(email="sam@example.org")
    services.create_profile(user=user, display_name=" Sam at 12 ", language="cy")
    assert (user.profile.display_name, user.profile.language) == ("Sam at 12", "cy")
    assert user_display(user) == "Sam at 12"
    assert Profile.objects.get(user=user).display_name == "Sam at 12"
