from django import forms
from django.utils.translation import gettext_lazy as _

from . import postcodes


class PostcodeForm(forms.Form):
    postcode = forms.CharField(
        label=_("Your postcode"),
        max_length=16,
        help_text=_("For example, CF10 1EP"),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "spellcheck": "false", "size": 10}),
        error_messages={"required": _("Enter your postcode.")},
    )

    def clean_postcode(self) -> str:
        postcode = postcodes.normalise(self.cleaned_data["postcode"])
        if not postcodes.is_valid(postcode):
            raise forms.ValidationError(
                _("Enter a real UK postcode, like CF10 1EP. Check for a mix-up of O and 0 or I and 1.")
            )
        return postcode
