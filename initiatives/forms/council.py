from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import CouncilOffer
from ..services.council import MAX_AMOUNT, MAX_NOTE, MAX_UNLOCK_SUPPORTERS


class OfferForm(forms.Form):
    """An offer's details; `details()` gives them in the shape `services.council.publish_offer` / `edit_offer` take."""

    kind = forms.ChoiceField(
        label=_("Kind of support"),
        choices=CouncilOffer.Kind.choices,
        error_messages={"required": _("Choose what kind of support this is.")},
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        help_text=_("For example: Small grant up to £500"),
        error_messages={"required": _("Give the offer a title.")},
    )
    description = forms.CharField(
        label=_("What the council offers"),
        max_length=3000,
        widget=forms.Textarea(attrs={"rows": 5}),
        error_messages={"required": _("Describe what the offer is.")},
    )
    eligibility = forms.CharField(
        label=_("Who can ask for it"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("For example: initiatives open to everyone on the street, in the council's area."),
    )
    amount = forms.DecimalField(
        label=_("Value in £"),
        required=False,
        min_value=Decimal("0"),
        max_value=MAX_AMOUNT,
        max_digits=10,
        decimal_places=2,
        help_text=_("What the offer is worth, for the public ledger. Leave empty if it has no money value."),
        error_messages={
            "invalid": _("Enter an amount in pounds, like 250 or 99.50."),
            "min_value": _("The value cannot be less than £0."),
            "max_value": _("The value can be at most £1,000,000."),
            "max_decimal_places": _("Use pounds and pence, like 99.50."),
            "max_digits": _("The value can be at most £1,000,000."),
        },
    )
    unlock_supporters = forms.IntegerField(
        label=_("Supporters needed"),
        required=False,
        min_value=1,
        max_value=MAX_UNLOCK_SUPPORTERS,
        help_text=_(
            "An initiative can ask for this once this many neighbours support it. Leave empty for no threshold."
        ),
        error_messages={
            "invalid": _("Enter a whole number, like 10."),
            "min_value": _("Enter at least 1, or leave it empty for no threshold."),
            "max_value": _("Enter at most 10,000."),
        },
    )

    def __init__(self, *args, offer: CouncilOffer | None = None, **kwargs):
        if offer is not None and "initial" not in kwargs:
            kwargs["initial"] = {name: getattr(offer, name) for name in self.base_fields}
        super().__init__(*args, **kwargs)

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.fields}


class OfferRequestForm(forms.Form):
    """An initiative asks for one offer. The note goes to the council's officers only."""

    note = forms.CharField(
        label=_("Why you are asking"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "Only the council's officers read this. Say what you would use it for. Do not include anyone's "
            "name or contact details."
        ),
    )


class BackingDecisionForm(forms.Form):
    """An officer's answer to a request: approve or decline, with a message to the initiative."""

    APPROVE = "approve"
    DECLINE = "decline"

    message = forms.CharField(
        label=_("Message to the initiative"),
        max_length=MAX_NOTE,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Needed when you decline: say why. The initiative's organisers read it."),
    )
    decision = forms.ChoiceField(
        choices=[(APPROVE, _("Approve")), (DECLINE, _("Decline"))],
        widget=forms.HiddenInput,
        error_messages={"required": _("Choose approve or decline."), "invalid_choice": _("Choose approve or decline.")},
    )

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == self.DECLINE and not (cleaned.get("message") or "").strip():
            self.add_error("message", _("Tell the initiative why the council is saying no."))
        return cleaned
