from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from .models import Category, DeliverySettings, Frequency

FREQUENCY_PREFIX = "frequency_"


class PreferencesForm(forms.Form):
    """How often to hear about each category, and when and in which language emails arrive.

    One radio group per category (a fieldset with the category as its legend), then the settings for all emails.
    """

    paused = forms.BooleanField(
        label=_("Pause all notification emails"),
        required=False,
        help_text=_(
            "You will still see notifications on the site. Emails about your account, such as sign-in links, "
            "still arrive."
        ),
    )
    digest_hour = forms.TypedChoiceField(
        label=_("Time of day for daily and weekly emails"),
        choices=[(hour, f"{hour:02d}:00") for hour in range(24)],
        coerce=int,
        help_text=_("UK time."),
    )
    digest_weekday = forms.TypedChoiceField(
        label=_("Day for the weekly email"), choices=DeliverySettings.Weekday.choices, coerce=int
    )
    language = forms.ChoiceField(
        label=_("Language of emails"),
        choices=settings.LANGUAGES,
        help_text=_("This is also the language of the site when you are signed in."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        categories = {
            f"{FREQUENCY_PREFIX}{value}": forms.ChoiceField(
                label=label, choices=Frequency.choices, widget=forms.RadioSelect
            )
            for value, label in Category.choices
        }
        # The categories come first, in the order people meet them on the page.
        self.fields = categories | self.fields

    def frequency_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if name.startswith(FREQUENCY_PREFIX)]

    def delivery_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith(FREQUENCY_PREFIX)]

    @staticmethod
    def initial_for(*, frequencies: dict[str, str], delivery: DeliverySettings, language: str) -> dict:
        return {
            **{f"{FREQUENCY_PREFIX}{category}": frequency for category, frequency in frequencies.items()},
            "paused": delivery.paused,
            "digest_hour": delivery.digest_hour,
            "digest_weekday": delivery.digest_weekday,
            "language": language,
        }

    def frequencies(self) -> dict[str, str]:
        """The chosen frequency for each category, keyed by category; call after `is_valid()`."""
        return {
            name.removeprefix(FREQUENCY_PREFIX): value
            for name, value in self.cleaned_data.items()
            if name.startswith(FREQUENCY_PREFIX)
        }
