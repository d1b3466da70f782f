from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from ..models import RSVP, Event
from ..selectors.events import ACCESS_FIELDS
from ..services.events import MAX_DAYS_AHEAD, MAX_LENGTH


def _local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _combine(day: date, at: time) -> datetime:
    """A date and a clock time on it, as people in the UK read them (GMT in winter, BST in summer)."""
    return datetime.combine(day, at, tzinfo=_local_zone())


class EventForm(forms.Form):
    """An event's details. Dates and times are typed as UK local time; `details()` gives them back in a form
    `services.create_event` / `edit_event` take."""

    title = forms.CharField(label=_("Title"), max_length=120, help_text=_("For example: Street tea party"))
    description = forms.CharField(
        label=_("What is happening"),
        max_length=5000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=_("You can use *italics*, **bold**, lists and links."),
    )
    date = forms.DateField(
        label=_("Date"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"required": _("Enter the date of the event."), "invalid": _("Enter a real date.")},
    )
    start_time = forms.TimeField(
        label=_("Start time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("UK time, for example 14:30"),
        error_messages={"required": _("Enter the start time."), "invalid": _("Enter a time like 14:30.")},
    )
    end_time = forms.TimeField(
        label=_("End time"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("UK time, for example 16:00"),
        error_messages={"required": _("Enter the end time."), "invalid": _("Enter a time like 16:00.")},
    )
    end_date = forms.DateField(
        label=_("End date, if it finishes on a later day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty if the event ends on the same day."),
        error_messages={"invalid": _("Enter a real date.")},
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        help_text=_("Where to meet, for example: The green outside number 20"),
        error_messages={"required": _("Enter where the event is.")},
    )
    capacity = forms.IntegerField(
        label=_("Number of places"),
        required=False,
        min_value=1,
        max_value=100000,
        help_text=_("Leave empty if there is no limit. When it is full, people can join a waiting list."),
        error_messages={"min_value": _("There must be at least 1 place, or leave it empty for no limit.")},
    )
    cost = forms.CharField(
        label=_("Cost"), max_length=80, required=False, help_text=_("For example: Free, or £3 for lunch")
    )
    access = forms.MultipleChoiceField(
        label=_("Access"),
        required=False,
        choices=[(name, capfirst(Event._meta.get_field(name).verbose_name)) for name in ACCESS_FIELDS],
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Tick everything the event offers, so neighbours know whether they can come."),
    )
    access_notes = forms.CharField(
        label=_("Other access information"),
        max_length=300,
        required=False,
        help_text=_("For example: two steps at the front door, a ramp is available"),
    )

    def __init__(self, *args, event: Event | None = None, **kwargs):
        self.event = event
        if event is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(event)
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_for(event: Event) -> dict:
        zone = _local_zone()
        starts, ends = event.starts_at.astimezone(zone), event.ends_at.astimezone(zone)
        return {
            "title": event.title,
            "description": event.description,
            "date": starts.date(),
            "start_time": starts.time().replace(second=0, microsecond=0),
            "end_time": ends.time().replace(second=0, microsecond=0),
            "end_date": ends.date() if ends.date() != starts.date() else None,
            "place": event.place,
            "capacity": event.capacity,
            "cost": event.cost,
            "access": [name for name in ACCESS_FIELDS if getattr(event, name)],
            "access_notes": event.access_notes,
        }

    def clean(self):
        data = super().clean()
        day, start, end = data.get("date"), data.get("start_time"), data.get("end_time")
        if day is None or start is None or end is None:
            return data
        end_day = data.get("end_date") or day
        starts_at, ends_at = _combine(day, start), _combine(end_day, end)
        if end_day < day:
            self.add_error("end_date", _("The end date must be on or after the date of the event."))
        elif ends_at <= starts_at:
            self.add_error(
                "end_time",
                _("The event must end after it starts. If it finishes the next day, enter the end date too."),
            )
        # Editing an event already under way keeps its start; any other start must still be to come.
        unchanged = self.event is not None and starts_at == self.event.starts_at
        if starts_at <= timezone.now() and not unchanged:
            self.add_error("date", _("The event must start in the future. Check the date and start time."))
        elif starts_at > timezone.now() + timedelta(days=MAX_DAYS_AHEAD):
            self.add_error("date", _("Events can be planned up to two years ahead. Check the year."))
        if end_day >= day and ends_at - starts_at > MAX_LENGTH:
            self.add_error("end_date", _("An event can last up to two weeks. Check the end date."))
        data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data

    def details(self) -> dict:
        """Keyword arguments for `services.create_event` / `services.edit_event`."""
        data = self.cleaned_data
        chosen = set(data["access"])
        return {
            "title": data["title"],
            "description": data["description"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
            "place": data["place"],
            "capacity": data["capacity"],
            "cost": data["cost"],
            **{name: name in chosen for name in ACCESS_FIELDS},
            "access_notes": data["access_notes"],
        }


class RSVPForm(forms.Form):
    status = forms.ChoiceField(
        label=_("Are you going?"),
        choices=[
            (RSVP.Status.GOING, _("Going")),
            (RSVP.Status.MAYBE, _("Maybe")),
            (RSVP.Status.NOT_GOING, _("Not going")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose going, maybe or not going."),
            "invalid_choice": _("Choose going, maybe or not going."),
        },
    )
