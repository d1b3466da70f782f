"""Progress updates from an initiative's organisers, recorded for its supporters and volunteers."""

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.models import User
from core.exceptions import DomainError
from core.text import render_markdown
from notifications import services as notifications
from notifications.models import Category

from .. import selectors, timeline
from ..models import Initiative, Support, TimelineEntry, Update, VolunteerSignup
from .initiatives import display_name, is_organiser

TITLE_LENGTH = 120
BODY_LENGTH = 5000
POSTED_MESSAGE = gettext_noop("%(name)s posted an update: %(title)s")


def update_recipients(*, initiative: Initiative, exclude: User | None = None):
    """Supporters and volunteers (people signed up to any of its roles) who are still members where the initiative
    lives, each once, as a single query: someone who left a members-only group hears nothing more of it."""
    supports = Support.objects.filter(initiative=initiative, user=OuterRef("pk"))
    signups = VolunteerSignup.objects.filter(role__initiative=initiative, user=OuterRef("pk"))
    still_member = Exists(selectors.active_memberships_for(initiative, OuterRef("pk")))
    recipients = User.objects.filter(Q(Exists(supports)) | Q(Exists(signups))).filter(still_member).only("pk")
    if exclude is not None:
        recipients = recipients.exclude(pk=exclude.pk)
    return recipients


@transaction.atomic
def post_update(*, author: User, initiative: Initiative, title: str, body: str) -> Update:
    """Post a progress update (a title and a Markdown body): the lead and co-organisers may, unless the
    initiative is archived. It goes on the timeline, and every supporter and volunteer but the author is recorded
    as a recipient of an "initiative.update_posted" notification."""
    if not author.is_authenticated or not is_organiser(author, initiative):
        raise DomainError(_("Only the lead and co-organisers can post updates."))
    if initiative.status == Initiative.Status.ARCHIVED:
        raise DomainError(_("This initiative has been archived, so it cannot have new updates."))
    title, body = (title or "").strip(), (body or "").strip()
    if not title:
        raise DomainError(_("Give the update a title."))
    if not body:
        raise DomainError(_("Write what has happened."))
    if len(title) > TITLE_LENGTH or len(body) > BODY_LENGTH:
        raise DomainError(
            _("Keep the title to %(title)s characters and the update to %(body)s.")
            % {"title": TITLE_LENGTH, "body": BODY_LENGTH}
        )
    update = Update.objects.create(
        initiative=initiative, author=author, title=title, body=body, body_html=render_markdown(body)
    )
    url = f"{reverse('initiatives:updates', args=[initiative.slug])}#update-{update.pk}"
    name = display_name(author)
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.UPDATE,
        actor=author,
        message=POSTED_MESSAGE,
        params={"name": name, "title": title},
        url=url,
    )
    notifications.record(
        event="initiative.update_posted",
        category=Category.INITIATIVES,
        subject=update,
        actor=author,
        recipients=update_recipients(initiative=initiative, exclude=author),
        context={"name": name, "initiative": initiative.title, "title": title, "excerpt": body[:200]},
        url=url,
    )
    return update
