from django import forms
from django.utils.translation import gettext_lazy as _


class BlockForm(forms.Form):
    """Confirms a block. `next` is the page the person came from (checked before it is followed)."""

    next = forms.CharField(required=False, widget=forms.HiddenInput, max_length=500)

    def __init__(self, *args, blocker_id: int, blocked_id: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.blocker_id = blocker_id
        self.blocked_id = blocked_id

    def clean(self):
        cleaned = super().clean()
        if self.blocker_id == self.blocked_id:
            raise forms.ValidationError(_("You cannot block yourself."), code="self")
        return cleaned
