"""Interests, skills and the directory opt-in on a person's profile."""

import pytest
from django.urls import reverse

from accounts import services
from accounts.forms import ProfileForm
from accounts.models import Tag
from core.exceptions import DomainError

pytestmark = pytest.mark.django_db


def post_profile(client, **fields):
    data = {"display_name": "Sam", "bio": "", "language": "en-gb", "interests": "", "skills": ""} | fields
    return client.post(reverse("accounts:profile"), data)


def names(manager) -> list[str]:
    return sorted(manager.values_list("name", flat=True))


def test_interests_and_skills_are_saved_from_comma_separated_text(signed_in_client, user):
    response = post_profile(
        signed_in_client,
        interests=" gardening,  cooking ,, local   history ",
        skills="can lend tools, happy to check on older neighbours",
        in_directory="on",
    )
    assert response.status_code == 302
    profile = user.profile
    profile.refresh_from_db()
    assert names(profile.interests) == ["cooking", "gardening", "local history"]
    assert names(profile.skills) == ["can lend tools", "happy to check on older neighbours"]
    assert set(profile.interests.values_list("kind", flat=True)) == {Tag.Kind.INTEREST}
    assert set(profile.skills.values_list("kind", flat=True)) == {Tag.Kind.SKILL}
    assert profile.in_directory is True


def test_the_form_shows_what_was_saved(signed_in_client, user):
    post_profile(signed_in_client, interests="gardening, cooking", skills="can lend tools", in_directory="on")
    response = signed_in_client.get(reverse("accounts:profile"))
    html = response.content.decode()
    assert 'value="cooking, gardening"' in html
    assert 'value="can lend tools"' in html
    assert response.context["form"]["in_directory"].value() is True


def test_existing_tags_are_reused_by_slug(signed_in_client, user):
    existing = Tag.objects.create(kind=Tag.Kind.INTEREST, name="Gardening", slug="gardening")
    post_profile(signed_in_client, interests="GARDENING, gardening, Gardening ")
    assert list(user.profile.interests.all()) == [existing]
    assert Tag.objects.filter(kind=Tag.Kind.INTEREST).count() == 1


def test_the_same_name_can_be_an_interest_and_a_skill(signed_in_client, user):
    post_profile(signed_in_client, interests="cooking", skills="Cooking")
    assert Tag.objects.filter(slug="cooking").count() == 2
    assert user.profile.interests.get().kind == Tag.Kind.INTEREST
    assert user.profile.skills.get().kind == Tag.Kind.SKILL


def test_emptying_the_fields_clears_them_and_unticking_leaves_the_directory(signed_in_client, user):
    post_profile(signed_in_client, interests="gardening", skills="can lend tools", in_directory="on")
    post_profile(signed_in_client)
    user.profile.refresh_from_db()
    assert not user.profile.interests.exists()
    assert not user.profile.skills.exists()
    assert user.profile.in_directory is False
    assert Tag.objects.count() == 2  # tags stay for others to reuse


def test_people_are_not_listed_unless_they_opt_in(user):
    assert user.profile.in_directory is False


@pytest.mark.parametrize(
    ("field", "typed", "message"),
    [
        ("interests", "gardening, " + "x" * 61, "60 characters or fewer"),
        ("skills", ", ".join(f"skill {n}" for n in range(16)), "Choose up to 15"),
        ("interests", "gardening, !!!", "needs at least one letter or number"),
    ],
)
def test_bad_tags_are_a_form_error_keeping_what_was_typed(signed_in_client, user, field, typed, message):
    response = post_profile(signed_in_client, bio="Kept bio", **{field: typed})
    assert response.status_code == 200
    html = response.content.decode()
    assert message in html
    assert field in response.context["form"].errors
    assert "Kept bio" in html
    assert "<title>Error:" in html
    assert not user.profile.interests.exists()
    assert not Tag.objects.exists()


def test_fifteen_tags_are_fine(signed_in_client, user):
    response = post_profile(signed_in_client, interests=", ".join(f"interest {n}" for n in range(15)))
    assert response.status_code == 302
    assert user.profile.interests.count() == 15


def test_html_in_a_tag_is_stored_as_text_and_escaped(signed_in_client, user):
    post_profile(signed_in_client, interests="<b>bold</b> gardening")
    assert names(user.profile.interests) == ["<b>bold</b> gardening"]
    html = signed_in_client.get(reverse("accounts:profile")).content.decode()
    assert "&lt;b&gt;bold&lt;/b&gt; gardening" in html
    assert "<b>bold</b>" not in html


def test_the_form_cleans_tags_into_a_list():
    form = ProfileForm(
        {"display_name": "Sam", "bio": "", "language": "en-gb", "interests": "a, b , a", "skills": " "},
    )
    assert form.is_valid(), form.errors
    assert form.cleaned_data["interests"] == ["a", "b"]
    assert form.cleaned_data["skills"] == []
    assert form.cleaned_data["in_directory"] is False


def test_update_profile_keeps_tags_and_opt_in_when_they_are_left_out(user):
    services.update_profile(
        user=user, display_name="Sam", bio="", language="en-gb", interests=["Gardening"], in_directory=True
    )
    services.update_profile(user=user, display_name="Sam at 12", bio="Hi", language="cy")
    user.profile.refresh_from_db()
    assert user.profile.display_name == "Sam at 12"
    assert names(user.profile.interests) == ["Gardening"]
    assert user.profile.in_directory is True


def test_update_profile_checks_the_limits_itself(user):
    with pytest.raises(DomainError):
        services.update_profile(
            user=user, display_name="Sam", bio="", language="en-gb", skills=[f"s{n}" for n in range(16)]
        )
    with pytest.raises(DomainError):
        services.update_profile(user=user, display_name="Sam", bio="", language="en-gb", interests=["x" * 61])


def test_update_profile_is_all_or_nothing(user):
    with pytest.raises(DomainError):
        services.update_profile(
            user=user, display_name="Changed", bio="", language="en-gb", interests=["ok"], skills=["x" * 61]
        )
    user.profile.refresh_from_db()
    assert user.profile.display_name != "Changed"
    assert not Tag.objects.exists()


def test_a_short_name_that_grows_when_normalised_is_refused_not_a_crash(signed_in_client, user):
    response = signed_in_client.post(
        reverse("accounts:profile"),
        {"display_name": "Sam", "bio": "", "language": "en-gb", "interests": "\ufdfa" * 4, "skills": ""},
    )
    assert response.status_code == 200
    assert "too long" in response.content.decode()
    assert not user.profile.interests.exists()
