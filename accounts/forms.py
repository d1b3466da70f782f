from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

from . import services
from .models import Profile, Tag


class SignupForm(AllauthSignupForm):
    """allauth's sign-up form with the one thing neighbours see: a display name."""

    display_name = forms.CharField(
        label=_("Display name"),
        max_length=60,
        help_text=_("The name your neighbours see, for example “Sam” or “Sam at number 12”."),
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["display_name", "email", "password1", "password2"])

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the name your neighbours will see."))
        return name


class TagsField(forms.CharField):
    """Interests or skills typed as comma-separated text ("gardening, cooking"); cleans to a list of names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 2000)
        kwargs.setdefault("widget", forms.TextInput(attrs={"autocomplete": "off"}))
        super().__init__(**kwargs)

    def clean(self, value) -> list[str]:
        text = super().clean(value)
        try:
            return services.tag_names(text)
        except DomainError as error:
            raise forms.ValidationError(error.message) from error


class ProfileForm(forms.ModelForm):
    interests = TagsField(
        label=_("Interests"),
        help_text=_("Separate them with commas, for example: gardening, cooking, local history. Up to 15."),
    )
    skills = TagsField(
        label=_("Skills and offers"),
        help_text=_(
            "Things you could help with, separated by commas, for example: can lend tools, happy to "
            "check on older neighbours. Up to 15."
        ),
    )

    class Meta:
        model = Profile
        fields = ["display_name", "bio", "language", "in_directory"]
        widgets = {
            "display_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
            "bio": forms.Textarea(attrs={"rows": 4}),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["display_name", "bio", "interests", "skills", "in_directory", "language"])
        if not self.is_bound and self.instance.pk:
            # One query for both kinds: the profile's interests and skills, split by kind here.
            through_interests = Profile.interests.through.objects.filter(profile=self.instance).values("tag_id")
            through_skills = Profile.skills.through.objects.filter(profile=self.instance).values("tag_id")
            tags = Tag.objects.filter(Q(pk__in=through_interests) | Q(pk__in=through_skills)).order_by("name")
            names: dict[str, list[str]] = {Tag.Kind.INTEREST: [], Tag.Kind.SKILL: []}
            for tag in tags:
                names[tag.kind].append(tag.name)
            self.initial.setdefault("interests", ", ".join(names[Tag.Kind.INTEREST]))
            self.initial.setdefault("skills", ", ".join(names[Tag.Kind.SKILL]))

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the name your neighbours will see."))
        return name
