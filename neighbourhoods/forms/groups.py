from django import forms
from django.utils.translation import gettext_lazy as _

from .. import postcodes
from ..models import Group, Neighbourhood, Postcode


class PostcodeForm(forms.Form):
    postcode = forms.CharField(
        label=_("Your postcode"),
        max_length=16,
        help_text=_("For example, CF10 1EP"),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "spellcheck": "false", "size": 10}),
        error_messages={"required": _("Enter your postcode.")},
    )

    def clean_postcode(self) -> str:
        postcode = postcodes.normalise(self.cleaned_data["postcode"])
        if not postcodes.is_valid(postcode):
            raise forms.ValidationError(
                _("Enter a real UK postcode, like CF10 1EP. Check for a mix-up of O and 0 or I and 1.")
            )
        return postcode


class GroupForm(forms.Form):
    name = forms.CharField(
        label=_("Group name"),
        max_length=120,
        help_text=_("Something neighbours will recognise, for example “Clifton Street neighbours”."),
    )
    postcodes = forms.CharField(
        label=_("Postcodes it covers"),
        max_length=500,
        help_text=_("One or more postcodes, separated by commas. They must all be in the same neighbourhood."),
        widget=forms.TextInput(attrs={"spellcheck": "false"}),
    )
    streets = forms.CharField(
        label=_("Streets it covers"),
        max_length=300,
        required=False,
        help_text=_("For example: Clifton Street, Moira Terrace"),
    )
    about = forms.CharField(
        label=_("About the group"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the group is for and how you hope neighbours will use it."),
    )
    join_policy = forms.ChoiceField(
        label=_("Who can join"),
        choices=Group.JoinPolicy.choices,
        initial=Group.JoinPolicy.APPROVAL,
        widget=forms.RadioSelect,
    )
    visibility = forms.ChoiceField(
        label=_("Who can see the group"),
        choices=Group.Visibility.choices,
        initial=Group.Visibility.PUBLIC,
        widget=forms.RadioSelect,
    )
    unverified_can_post = forms.BooleanField(
        label=_("Members who are not verified yet may post and comment"), required=False, initial=True
    )
    events_by = forms.ChoiceField(
        label=_("Who can create events"),
        choices=Group.EventsBy.choices,
        initial=Group.EventsBy.MEMBERS,
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, neighbourhood: Neighbourhood | None = None, **kwargs):
        self.neighbourhood = neighbourhood  # fixed when editing; found from the postcodes when starting a group
        super().__init__(*args, **kwargs)

    def clean_postcodes(self) -> list[Postcode]:
        typed = [part for part in self.cleaned_data["postcodes"].replace(";", ",").split(",") if part.strip()]
        if not typed:
            raise forms.ValidationError(_("Enter at least one postcode."))
        codes = []
        for raw in typed:
            code = postcodes.normalise(raw)
            if not postcodes.is_valid(code):
                raise forms.ValidationError(_("“%(postcode)s” is not a UK postcode.") % {"postcode": raw.strip()})
            codes.append(code)
        found = {p.code: p for p in Postcode.objects.select_related("neighbourhood").filter(code__in=codes)}
        missing = [code for code in codes if code not in found]
        if missing:
            raise forms.ValidationError(
                _("We do not cover %(postcodes)s yet, so a group cannot include it.")
                % {"postcodes": ", ".join(missing)}
            )
        areas = {p.neighbourhood_id for p in found.values()}
        if len(areas) > 1:
            raise forms.ValidationError(_("These postcodes are in different neighbourhoods. Start one group for each."))
        chosen = list(found.values())
        if self.neighbourhood is not None and chosen[0].neighbourhood_id != self.neighbourhood.pk:
            raise forms.ValidationError(_("Every postcode must be in %(area)s.") % {"area": self.neighbourhood.name})
        self.neighbourhood = chosen[0].neighbourhood
        return chosen


class JoinCodeForm(forms.Form):
    code = forms.CharField(
        label=_("Join code"),
        max_length=12,
        help_text=_("The code printed on your flyer, for example K7QM3XTA."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false", "autocapitalize": "characters"}),
        error_messages={"required": _("Enter the code from your flyer.")},
    )

    def clean_code(self) -> str:
        return "".join(self.cleaned_data["code"].split()).upper()


class NewJoinCodeForm(forms.Form):
    label = forms.CharField(label=_("Label (only organisers see it)"), max_length=80, required=False)
    expires_on = forms.DateField(
        label=_("Stops working after"),
        required=False,
        help_text=_("Leave empty to keep it working until you withdraw it."),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    max_uses = forms.IntegerField(
        label=_("Number of uses"),
        required=False,
        min_value=1,
        max_value=10000,
        help_text=_("Leave empty for no limit."),
    )
