from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.utils.translation import gettext_lazy as _

from .models import Profile


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


class ProfileForm(forms.ModelForm):
    class Meta:
        model = Profile
        fields = ["display_name", "bio", "language"]
        widgets = {
            "display_name": forms.TextInput(attrs={"autocomplete": "nickname"}),
            "bio": forms.Textarea(attrs={"rows": 4}),
        }

    def clean_display_name(self) -> str:
        name = self.cleaned_data["display_name"].strip()
        if not name:
            raise forms.ValidationError(_("Enter the name your neighbours will see."))
        return name
