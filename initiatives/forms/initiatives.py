from django import forms
from django.utils.translation import gettext_lazy as _

from neighbourhoods.models import Group, Membership, Neighbourhood

from ..models import Initiative
from ..selectors.initiatives import SCOPE_EVERYWHERE, SCOPE_NEAR_ME, SEARCH_LENGTH

MARKDOWN_HINT = _("You can use *italics*, **bold**, lists and links.")


class InitiativeForm(forms.Form):
    """What an initiative is: the fields its organisers write. `details()` gives them back for the services."""

    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        help_text=_("For example: Community garden on Moira Terrace"),
        error_messages={"required": _("Give the initiative a title.")},
    )
    summary = forms.CharField(
        label=_("Summary"),
        max_length=280,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("A sentence or two: what you want to do and why. Up to 280 characters."),
        error_messages={"required": _("Say in a sentence or two what the initiative is about.")},
    )
    description = forms.CharField(
        label=_("Description"),
        max_length=10000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 10}),
        help_text=MARKDOWN_HINT,
    )
    category = forms.ChoiceField(
        label=_("Category"),
        choices=Initiative.Category.choices,
        initial=Initiative.Category.OTHER,
        error_messages={"required": _("Choose a category."), "invalid_choice": _("Choose one of the categories.")},
    )
    place = forms.CharField(
        label=_("Place"),
        max_length=200,
        required=False,
        help_text=_("Where it happens, in words. For example: The empty plot behind the library"),
    )

    FIELDS = ("title", "summary", "description", "category", "place")

    @classmethod
    def initial_for(cls, initiative: Initiative) -> dict:
        return {name: getattr(initiative, name) for name in cls.FIELDS}

    def details(self) -> dict:
        return {name: self.cleaned_data[name] for name in self.FIELDS}


class ProposeForm(InitiativeForm):
    """Propose an initiative in one of the person's street groups, or for a whole neighbourhood they live in."""

    where = forms.ChoiceField(
        label=_("Who is it for?"),
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose a street group or a neighbourhood."),
            "invalid_choice": _("Choose one of your street groups or neighbourhoods."),
        },
    )

    field_order = ["where", *InitiativeForm.FIELDS]

    def __init__(self, *args, memberships: list[Membership], **kwargs):
        super().__init__(*args, **kwargs)
        self.groups: dict[str, Group] = {}
        self.neighbourhoods: dict[str, Neighbourhood] = {}
        choices = []
        for membership in memberships:
            group = membership.group
            self.groups[f"group:{group.slug}"] = group
            choices.append((f"group:{group.slug}", group.name))
        for membership in memberships:
            area = membership.group.neighbourhood
            key = f"area:{area.slug}"
            if key not in self.neighbourhoods:
                self.neighbourhoods[key] = area
                choices.append((key, _("Everyone in %(area)s") % {"area": area.name}))
        self.fields["where"].choices = choices

    def place_details(self) -> dict:
        """`group=` or `neighbourhood=` for `services.propose_initiative`."""
        where = self.cleaned_data["where"]
        if where in self.groups:
            return {"group": self.groups[where]}
        return {"neighbourhood": self.neighbourhoods[where]}


class EditForm(InitiativeForm):
    """The same fields, and the version the editor started from, so a change made meanwhile is never overwritten."""

    version = forms.IntegerField(widget=forms.HiddenInput, min_value=1)

    def __init__(self, *args, initiative: Initiative, **kwargs):
        if "initial" not in kwargs:
            kwargs["initial"] = {**self.initial_for(initiative), "version": initiative.version}
        super().__init__(*args, **kwargs)


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(
        label=_("New status"),
        choices=Initiative.Status.choices,
        error_messages={"required": _("Choose a status."), "invalid_choice": _("Choose one of the statuses offered.")},
    )
    note = forms.CharField(
        label=_("Note (optional)"),
        max_length=280,
        required=False,
        help_text=_("Why the status is changing, for the timeline record. Up to 280 characters."),
    )


class SupportForm(forms.Form):
    note = forms.CharField(
        label=_("Add a note (optional)"),
        max_length=280,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why you back it, or how you might help. Up to 280 characters."),
    )


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return obj.profile.display_name


class InviteForm(forms.Form):
    invitee = PersonChoiceField(
        label=_("Invite a co-organiser"),
        queryset=None,
        empty_label=_("Choose a neighbour"),
        help_text=_("Members who may take part and are not on the team yet."),
        error_messages={
            "required": _("Choose who to invite."),
            "invalid_choice": _("Choose someone from the list."),
        },
    )

    def __init__(self, *args, candidates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["invitee"].queryset = candidates


class HandOverForm(forms.Form):
    to_user = forms.TypedChoiceField(
        label=_("Hand over the lead to"),
        coerce=int,
        error_messages={
            "required": _("Choose a co-organiser."),
            "invalid_choice": _("Choose one of the co-organisers."),
        },
    )

    def __init__(self, *args, co_organisers: list, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_user"].choices = [("", _("Choose a co-organiser"))] + [
            (role.user_id, role.user.profile.display_name) for role in co_organisers
        ]


class UpdateForm(forms.Form):
    title = forms.CharField(
        label=_("Title"),
        max_length=120,
        help_text=_("For example: The beds are dug!"),
        error_messages={"required": _("Give the update a title.")},
    )
    body = forms.CharField(
        label=_("What has happened"),
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=MARKDOWN_HINT,
        error_messages={"required": _("Write what has happened.")},
    )


class FilterForm(forms.Form):
    """Narrow the list: by words, category and status; signed-in people also choose near them or everywhere."""

    q = forms.CharField(
        label=_("Search"),
        max_length=SEARCH_LENGTH,
        required=False,
        widget=forms.TextInput(attrs={"type": "search"}),
        help_text=_("Words to look for"),
    )
    category = forms.ChoiceField(
        label=_("Category"),
        required=False,
        choices=[("", _("Any category")), *Initiative.Category.choices],
        error_messages={"invalid_choice": _("Choose one of the categories.")},
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=[("", _("Any except archived")), *Initiative.Status.choices],
        error_messages={"invalid_choice": _("Choose one of the statuses.")},
    )
    scope = forms.ChoiceField(
        label=_("Where"),
        required=False,
        choices=[(SCOPE_NEAR_ME, _("Near me: my groups and neighbourhoods")), (SCOPE_EVERYWHERE, _("Everywhere"))],
        error_messages={"invalid_choice": _("Choose near me or everywhere.")},
    )

    def __init__(self, *args, signed_in: bool, **kwargs):
        super().__init__(*args, **kwargs)
        if not signed_in:
            del self.fields["scope"]

    def filters(self) -> dict:
        """Keyword arguments for `selectors.list_initiatives`; an invalid choice is ignored, not an error page."""
        self.is_valid()
        data = self.cleaned_data  # the fields that were valid; a bad one is simply left out
        signed_in = "scope" in self.fields
        return {
            "text": data.get("q", ""),
            "category": data.get("category", ""),
            "status": data.get("status", ""),
            "scope": (data.get("scope") or SCOPE_NEAR_ME) if signed_in else SCOPE_EVERYWHERE,
        }
