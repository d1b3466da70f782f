from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.models import Tag

from ..services.neighbours import MESSAGE_MAX_LENGTH


class WaveForm(forms.Form):
    message = forms.CharField(
        label=_("A short message (optional)"),
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: “Hello from number 14! Fancy a cuppa some time?” Up to 280 characters."),
        error_messages={
            "max_length": _("Keep your message to %(limit_value)d characters or fewer. It has %(show_value)d.")
        },
    )


NOT_LISTED = _("No one listed has that. Choose one from the list.")


class DirectoryFilterForm(forms.Form):
    """Filter the directory by one interest or skill. Only tags someone listed actually has are offered."""

    interest = forms.ChoiceField(label=_("Interest"), required=False, error_messages={"invalid_choice": NOT_LISTED})
    skill = forms.ChoiceField(label=_("Skill or offer"), required=False, error_messages={"invalid_choice": NOT_LISTED})

    def __init__(self, *args, interests: list[Tag], skills: list[Tag], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["interest"].choices = [("", _("Any interest"))] + [(t.slug, t.name) for t in interests]
        self.fields["skill"].choices = [("", _("Any skill or offer"))] + [(t.slug, t.name) for t in skills]
