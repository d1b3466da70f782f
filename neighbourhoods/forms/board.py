"""Forms for the notice board. They check the shape of what was typed; the services in `services.board` save it."""

from django import forms
from django.utils.translation import gettext_lazy as _

from ..models import Comment, Post

# Rendered as the field's hint (our form templates mark help text safe), so it may hold a little HTML of our own.
MARKDOWN_HELP = _(
    "<p>You can format your message:</p>"
    "<ul>"
    "<li><code>**bold**</code> for <strong>bold</strong></li>"
    "<li><code>*italic*</code> for <em>italic</em></li>"
    "<li>a line starting with <code>- </code> or <code>1. </code> for a list</li>"
    "<li><code>[words](https://example.org)</code> for a link</li>"
    "</ul>"
    "<p>Other HTML is shown as plain text.</p>"
)


class PostForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("What kind of post is it?"),
        choices=Post.Kind.choices,
        initial=Post.Kind.NOTICE,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose what kind of post this is.")},
    )
    title = forms.CharField(
        label=_("Title"),
        max_length=Post._meta.get_field("title").max_length,
        help_text=_("A few words, for example “Ladder to lend” or “Has anyone seen a grey cat?”"),
        error_messages={"required": _("Give your post a title.")},
    )
    body = forms.CharField(
        label=_("Message"),
        max_length=Post._meta.get_field("body").max_length,
        widget=forms.Textarea(attrs={"rows": 8}),
        help_text=MARKDOWN_HELP,
        error_messages={"required": _("Write your message. It cannot be empty.")},
    )


class CommentForm(forms.Form):
    body = forms.CharField(
        label=_("Your comment"),
        max_length=Comment._meta.get_field("body").max_length,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "You can use <code>**bold**</code>, <code>*italic*</code>, lists and "
            "<code>[words](https://example.org)</code> links."
        ),
        error_messages={"required": _("Write your comment. It cannot be empty.")},
    )
