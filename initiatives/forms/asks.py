from decimal import Decimal

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import Ask
from ..services.asks import AMOUNT_ERRORS, MAX_AMOUNT, TARGET_ERRORS


class AmountField(forms.DecimalField):
    """More than 0, at most 1,000,000, at most two decimal places. Reads "£1,200.50" as 1200.50, since that is how
    people write money; anything else that is not a number gets the "invalid" message."""

    def __init__(self, *, errors: dict, **kwargs):
        self.more_than_zero_message = errors["min_value"]
        super().__init__(
            max_value=MAX_AMOUNT,
            max_digits=None,
            decimal_places=2,
            error_messages={**errors, "required": errors["invalid"]},
            **kwargs,
        )
        self.validators.append(self._more_than_zero)

    def _more_than_zero(self, value: Decimal) -> None:
        if value <= 0:
            raise ValidationError(self.more_than_zero_message, code="min_value")

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().replace(",", "").replace(" ", "").removeprefix("£")
        return super().to_python(value)

    def widget_attrs(self, widget):
        # A plain text box with a numeric keyboard: a number input would refuse "£20" or "1,200" before we could read
        # them, and its browser messages are not ours.
        attrs = super().widget_attrs(widget)
        for name in ("min", "max", "step"):
            attrs.pop(name, None)
        return attrs | {"inputmode": "decimal", "spellcheck": "false", "autocomplete": "off"}


class AskForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What kind of thing is needed?"),
        choices=Ask.Kind.choices,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose what kind of thing is needed."),
            "invalid_choice": _("Choose what kind of thing is needed."),
        },
    )
    title = forms.CharField(
        label=_("What is needed"),
        max_length=120,
        help_text=_("For example: Bags of compost, Money for seeds, Someone who can build raised beds"),
        error_messages={"required": _("Say what is needed.")},
    )
    description = forms.CharField(
        label=_("Details"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Anything that helps people offer the right thing: sizes, when, where to drop it off."),
    )
    target = AmountField(
        label=_("Target"),
        errors=TARGET_ERRORS,
        help_text=_("How much or how many, up to 1,000,000. For money, in pounds: for example 500 or 12.50."),
        widget=forms.TextInput,
    )
    unit = forms.CharField(
        label=_("Unit"),
        max_length=30,
        required=False,
        help_text=_("What the target counts, for example: bags, people, hours. Leave empty for money: it is in £."),
    )

    def __init__(self, *args, ask: Ask | None = None, **kwargs):
        self.ask = ask
        if ask is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "kind": ask.kind,
                "title": ask.title,
                "description": ask.description,
                # "20" rather than "20.00" for a whole number: what the organiser typed.
                "target": ask.target.quantize(Decimal(1))
                if ask.target == ask.target.to_integral_value()
                else ask.target,
                "unit": ask.unit,
            }
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("kind") == Ask.Kind.MONEY:
            data["unit"] = ""
        return data

    def details(self) -> dict:
        """Keyword arguments for `services.asks.add_ask` / `edit_ask`."""
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "title": data["title"],
            "description": data["description"],
            "target": data["target"],
            "unit": data["unit"],
        }


class PledgeForm(forms.Form):
    """A pledge towards one ask. Several appear on one page, so each takes the ask's own prefix."""

    amount = AmountField(label=_("Amount"), errors=AMOUNT_ERRORS, widget=forms.TextInput)
    note = forms.CharField(
        label=_("Note for the organisers (optional)"),
        max_length=280,
        required=False,
        help_text=_("For example: I can drop it round on Saturday."),
    )

    def __init__(self, *args, ask: Ask, **kwargs):
        kwargs.setdefault("prefix", f"ask-{ask.pk}")
        super().__init__(*args, **kwargs)
        self.ask = ask
        amount = self.fields["amount"]
        if ask.kind == Ask.Kind.MONEY:
            amount.label = gettext("Amount in £")
            amount.help_text = gettext(
                "For example 20 or 12.50. No money is taken here: you arrange it with the organisers."
            )
        elif ask.unit:
            amount.label = gettext("How many %(unit)s") % {"unit": ask.unit}
            amount.help_text = gettext("A number, for example 2.")
        else:
            amount.label = gettext("How many")
            amount.help_text = gettext("A number, for example 1.")
