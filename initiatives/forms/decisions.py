from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.exceptions import DomainError

from ..models import Decision, Vote
from ..services import decisions as services

OPTION_FIELDS = [f"option_{n}" for n in range(1, services.MAX_OPTIONS + 1)]


def _local(day: date, at: time) -> datetime:
    """A date and clock time as people in the UK read them (GMT in winter, BST in summer)."""
    return datetime.combine(day, at, tzinfo=ZoneInfo(settings.TIME_ZONE))


class DecisionForm(forms.Form):
    """A new decision. The closing date and time are typed as UK time; `details()` gives the keyword arguments
    `services.decisions.open_decision` takes."""

    kind = forms.ChoiceField(
        label=_("What kind of decision is it?"),
        choices=[
            (Decision.Kind.PROPOSAL, _("A proposal: people agree, abstain, disagree or block")),
            (Decision.Kind.POLL, _("A poll: people choose one of several options")),
        ],
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a proposal or a poll."),
            "invalid_choice": _("Choose a proposal or a poll."),
        },
    )
    question = forms.CharField(
        label=_("Question"),
        max_length=services.QUESTION_MAX_LENGTH,
        help_text=_("For example: Shall we plant fruit trees along the fence?"),
        error_messages={"required": _("Enter the question people are deciding.")},
    )
    description = forms.CharField(
        label=_("Background"),
        max_length=services.DESCRIPTION_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("What people need to know to decide. You can use *italics*, **bold**, lists and links."),
    )
    closes_on = forms.DateField(
        label=_("Voting closes on"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        help_text=_("Between one hour and 90 days from now."),
        error_messages={"required": _("Enter the date voting closes."), "invalid": _("Enter a real date.")},
    )
    closes_time = forms.TimeField(
        label=_("Voting closes at"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("UK time, for example 20:00"),
        error_messages={"required": _("Enter the time voting closes."), "invalid": _("Enter a time like 20:00.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for n, name in enumerate(OPTION_FIELDS, start=1):
            self.fields[name] = forms.CharField(
                label=_("Option %(number)s") % {"number": n},
                max_length=services.OPTION_MAX_LENGTH,
                required=False,
            )

    @property
    def main_fields(self):
        return [self[name] for name in self.fields if name not in OPTION_FIELDS]

    @property
    def option_fields(self):
        return [self[name] for name in OPTION_FIELDS]

    def clean(self):
        data = super().clean()
        day, at = data.get("closes_on"), data.get("closes_time")
        if day is not None and at is not None:
            closes_at = _local(day, at)
            if closes_at < timezone.now() + services.MIN_OPEN:
                self.add_error("closes_on", _("Voting must stay open for at least an hour. Choose a later time."))
            elif closes_at > timezone.now() + services.MAX_OPEN:
                self.add_error("closes_on", _("Voting can stay open for up to 90 days. Choose an earlier date."))
            data["closes_at"] = closes_at
        if data.get("kind") == Decision.Kind.POLL:
            try:
                data["options"] = services.clean_options([data.get(name, "") for name in OPTION_FIELDS])
            except DomainError as error:
                self.add_error("option_1", error.message)
        else:
            data["options"] = []  # options typed before switching to a proposal are ignored
        return data

    def details(self) -> dict:
        data = self.cleaned_data
        return {
            "kind": data["kind"],
            "question": data["question"],
            "description": data["description"],
            "closes_at": data["closes_at"],
            "options": data["options"],
        }


PROPOSAL_CHOICES = [
    (Vote.Position.AGREE, _("Agree")),
    (Vote.Position.ABSTAIN, _("Abstain: I will go along with what others decide")),
    (Vote.Position.DISAGREE, _("Disagree")),
    (Vote.Position.BLOCK, _("Block: I have a serious objection and this must not go ahead as it is")),
]


class VoteForm(forms.Form):
    """A vote on one decision: a position for a proposal, one of its options for a poll, and an optional reason
    (needed for a block)."""

    reason = forms.CharField(
        label=_("Your reason (optional)"),
        max_length=services.REASON_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Shown to other members without your name. If you block, say what would need to change."),
    )

    def __init__(self, *args, decision: Decision, **kwargs):
        self.decision = decision
        super().__init__(*args, **kwargs)
        if decision.kind == Decision.Kind.PROPOSAL:
            choice = forms.ChoiceField(
                label=_("Your vote"),
                choices=PROPOSAL_CHOICES,
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose agree, abstain, disagree or block."),
                    "invalid_choice": _("Choose agree, abstain, disagree or block."),
                },
            )
            self.fields = {"position": choice, "reason": self.fields["reason"]}
        else:
            # The options were prefetched with the decision, so building the choices costs no query.
            choice = forms.ChoiceField(
                label=_("Your choice"),
                choices=[(str(option.pk), option.label) for option in decision.options.all()],
                widget=forms.RadioSelect,
                error_messages={
                    "required": _("Choose one of the options."),
                    "invalid_choice": _("That is not one of this poll's options. Choose one of the options shown."),
                },
            )
            self.fields = {"option": choice, "reason": self.fields["reason"]}

    @staticmethod
    def initial_for(vote: Vote | None) -> dict:
        if vote is None:
            return {}
        return {"position": vote.position, "option": str(vote.option_id or ""), "reason": vote.reason}

    def clean(self):
        data = super().clean()
        if data.get("position") == Vote.Position.BLOCK and not (data.get("reason") or "").strip():
            self.add_error("reason", _("Say why you are blocking, so the organisers know what would need to change."))
        return data

    def details(self) -> dict:
        data = self.cleaned_data
        if "position" in data:
            return {"position": data["position"], "reason": data["reason"]}
        return {"option": int(data["option"]), "reason": data["reason"]}
