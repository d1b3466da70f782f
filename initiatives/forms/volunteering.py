from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..models import VolunteerRole
from ..services.volunteering import MAX_DAYS_AHEAD, MAX_LENGTH, MAX_SLOTS


def _local_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _combine(day: date, at: time) -> datetime:
    """A date and a clock time on it, as people in the UK read them (GMT in winter, BST in summer)."""
    return datetime.combine(day, at, tzinfo=_local_zone())


class VolunteerRoleForm(forms.Form):
    """A volunteer role's details. The date and times are optional (a role such as "Treasurer" has none) and typed
    as UK local time; `details()` gives them back as `services.volunteering.add_role` / `edit_role` take them."""

    title = forms.CharField(
        label=_("Role"),
        max_length=120,
        help_text=_("For example: Digging the beds, Making tea, Treasurer"),
        error_messages={"required": _("Give the role a title.")},
    )
    description = forms.CharField(
        label=_("What it involves"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What volunteers will do and anything they should bring or know."),
    )
    slots = forms.IntegerField(
        label=_("Number of places"),
        min_value=1,
        max_value=MAX_SLOTS,
        help_text=_("How many people you need, up to 500."),
        error_messages={
            "required": _("Enter how many people you need."),
            "invalid": _("Enter the number of places as a whole number, like 4."),
            "min_value": _("A role needs at least 1 place."),
            "max_value": _("A role can have up to 500 places."),
        },
    )
    date = forms.DateField(
        label=_("Date"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave the date and times empty if the role has no set time."),
        error_messages={"invalid": _("Enter a real date.")},
    )
    start_time = forms.TimeField(
        label=_("Start time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("UK time, for example 10:00"),
        error_messages={"invalid": _("Enter a time like 10:00.")},
    )
    end_time = forms.TimeField(
        label=_("End time"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("UK time, for example 12:30. Optional."),
        error_messages={"invalid": _("Enter a time like 12:30.")},
    )
    end_date = forms.DateField(
        label=_("End date, if it finishes on a later day"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Leave empty if it ends on the same day."),
        error_messages={"invalid": _("Enter a real date.")},
    )

    def __init__(self, *args, role: VolunteerRole | None = None, **kwargs):
        self.role = role
        if role is not None and "initial" not in kwargs:
            kwargs["initial"] = self.initial_for(role)
        super().__init__(*args, **kwargs)

    @staticmethod
    def initial_for(role: VolunteerRole) -> dict:
        zone = _local_zone()
        initial = {"title": role.title, "description": role.description, "slots": role.slots}
        if role.starts_at is not None:
            starts = role.starts_at.astimezone(zone)
            initial |= {"date": starts.date(), "start_time": starts.time().replace(second=0, microsecond=0)}
            if role.ends_at is not None:
                ends = role.ends_at.astimezone(zone)
                initial["end_time"] = ends.time().replace(second=0, microsecond=0)
                if ends.date() != starts.date():
                    initial["end_date"] = ends.date()
        return initial

    def clean(self):
        data = super().clean()
        data["starts_at"] = data["ends_at"] = None
        if any(name in self.errors for name in ("date", "start_time", "end_time", "end_date")):
            return data
        day, start, end, end_day = data.get("date"), data.get("start_time"), data.get("end_time"), data.get("end_date")
        if day is None:
            if start or end or end_day:
                self.add_error("date", _("Enter the date, or leave the times empty for a role with no set time."))
            return data
        if start is None:
            self.add_error("start_time", _("Enter the start time."))
            return data
        starts_at = _combine(day, start)
        ends_at = None
        if end is not None:
            end_day = end_day or day
            ends_at = _combine(end_day, end)
            if end_day < day:
                self.add_error("end_date", _("The end date must be on or after the date."))
            elif ends_at <= starts_at:
                self.add_error(
                    "end_time", _("The role must end after it starts. If it finishes the next day, enter the end date.")
                )
            elif ends_at - starts_at > MAX_LENGTH:
                self.add_error("end_date", _("A role can last up to two weeks. Check the end date."))
        elif end_day is not None:
            self.add_error("end_time", _("Enter the end time, or leave the end date empty."))
        # Editing a role already under way keeps its start; any other start must still be to come.
        unchanged = self.role is not None and starts_at == self.role.starts_at
        if starts_at <= timezone.now() and not unchanged:
            self.add_error("date", _("The role must start in the future. Check the date and start time."))
        elif starts_at > timezone.now() + timedelta(days=MAX_DAYS_AHEAD):
            self.add_error("date", _("Roles can be planned up to two years ahead. Check the year."))
        data["starts_at"], data["ends_at"] = starts_at, ends_at
        return data

    def details(self) -> dict:
        """Keyword arguments for `add_role` / `edit_role`."""
        data = self.cleaned_data
        return {
            "title": data["title"],
            "description": data["description"],
            "slots": data["slots"],
            "starts_at": data["starts_at"],
            "ends_at": data["ends_at"],
        }
