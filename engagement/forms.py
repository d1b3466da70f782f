from django import forms
from django.utils.translation import gettext_lazy as _

from neighbourhoods.models import CouncilMembership


class InviteForm(forms.Form):
    email = forms.EmailField(
        label=_("Their email address"),
        max_length=254,
        help_text=_("They will sign in (or create an account) with this address to accept."),
        error_messages={
            "required": _("Enter the email address to send the invitation to."),
            "invalid": _("Enter an email address like name@council.gov.uk."),
        },
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    role = forms.ChoiceField(
        label=_("Role"),
        choices=CouncilMembership.Role.choices,
        initial=CouncilMembership.Role.OFFICER,
        widget=forms.RadioSelect,
        help_text=_("Council admins can also invite and remove officers."),
        error_messages={"required": _("Choose a role."), "invalid_choice": _("Choose a role.")},
    )
