from decimal import Decimal

from django import forms
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from ..models import Outcome
from ..services import outcomes as services


class OutcomeForm(forms.Form):
    """What a completed initiative achieved. `details()` gives the keyword arguments `record_outcome` takes."""

    people_involved = forms.IntegerField(
        label=_("People involved"),
        min_value=0,
        max_value=services.MAX_PEOPLE,
        error_messages={
            "required": _("Enter how many people were involved, or 0."),
            "invalid": _("Enter a whole number, for example 25."),
            "min_value": _("People involved cannot be less than 0."),
            "max_value": _("People involved can be up to 100,000. Check the number."),
        },
    )
    volunteer_hours = forms.DecimalField(
        label=_("Volunteer hours"),
        min_value=Decimal("0"),
        max_value=services.MAX_HOURS,
        max_digits=8,
        decimal_places=1,
        help_text=_("All the hours volunteers gave, added up. You can use one decimal place, for example 42.5."),
        error_messages={
            "required": _("Enter the volunteer hours, or 0."),
            "invalid": _("Enter a number, for example 42.5."),
            "min_value": _("Volunteer hours cannot be less than 0."),
            "max_value": _("Volunteer hours can be up to 1,000,000. Check the number."),
            "max_decimal_places": _("Use one decimal place at most, for example 42.5."),
            "max_digits": _("Volunteer hours can be up to 1,000,000. Check the number."),
            "max_whole_digits": _("Volunteer hours can be up to 1,000,000. Check the number."),
        },
    )
    what_changed = forms.CharField(
        label=_("What changed"),
        max_length=services.WHAT_CHANGED_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("What is different now on your street or in your neighbourhood, in a few sentences."),
        error_messages={"required": _("Say what changed because of the initiative.")},
    )

    def __init__(self, *args, outcome: Outcome | None = None, suggestion: services.Suggestion | None = None, **kwargs):
        if "initial" not in kwargs:
            if outcome is not None:
                kwargs["initial"] = {
                    "people_involved": outcome.people_involved,
                    "volunteer_hours": outcome.volunteer_hours,
                    "what_changed": outcome.what_changed,
                }
            elif suggestion is not None:
                kwargs["initial"] = {
                    "people_involved": suggestion.people_involved,
                    "volunteer_hours": suggestion.volunteer_hours,
                }
        super().__init__(*args, **kwargs)
        if suggestion is not None:
            self.fields["people_involved"].help_text = ngettext(
                "On this site, %(count)s person supported, volunteered or organised. Add anyone who took part "
                "without signing up.",
                "On this site, %(count)s people supported, volunteered or organised. Add anyone who took part "
                "without signing up.",
                suggestion.people_involved,
            ) % {"count": suggestion.people_involved}
            if suggestion.volunteer_hours is not None:
                self.fields["volunteer_hours"].help_text = gettext(
                    "Sign-ups to dated volunteer roles add up to %(hours)s hours. Add the time given outside "
                    "them. You can use one decimal place, for example 42.5."
                ) % {"hours": suggestion.volunteer_hours}

    def details(self) -> dict:
        data = self.cleaned_data
        return {
            "people_involved": data["people_involved"],
            "volunteer_hours": data["volunteer_hours"],
            "what_changed": data["what_changed"],
        }
