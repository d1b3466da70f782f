"""The notice board: posts, comments and thanks. Every write to them goes through these actions.

Bodies are stored twice: as typed (stripped) for editing, and as `render_markdown(body)` in `body_html`, the only
form a page ever shows. Who may do what follows `neighbourhoods.permissions`; each action checks it again against
the membership as it is in the database now, so a stale page or a hand-made request cannot get round it.
"""

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _

from accounts.models import User
from core.exceptions import DomainError
from core.text import render_markdown
from notifications import services as notifications
from notifications.models import Category

from .. import permissions
from ..models import Comment, Group, Membership, Post, Thanks

TITLE_MAX = Post._meta.get_field("title").max_length
POST_BODY_MAX = Post._meta.get_field("body").max_length
COMMENT_BODY_MAX = Comment._meta.get_field("body").max_length


# --- Checks shared by the actions ----------------------------------------------------------------------------------


def _membership(user: User, group_id: int) -> Membership | None:
    return Membership.objects.filter(group_id=group_id, user=user).first()


def _group(group_id: int) -> Group:
    return Group.objects.get(pk=group_id)


def _require_can_post(user: User, group: Group, *, commenting: bool = False) -> None:
    membership = _membership(user, group.pk)
    if permissions.can_post(group, membership):
        return
    if permissions.is_member(membership):
        raise DomainError(
            _("Only verified members can comment in this group. An organiser or two neighbours can verify you.")
            if commenting
            else _("Only verified members can post in this group. An organiser or two neighbours can verify you.")
        )
    raise DomainError(
        _("Only members of the group can comment.") if commenting else _("Only members of the group can post.")
    )


def _require_organiser(user: User, group_id: int) -> None:
    if not permissions.is_organiser(_membership(user, group_id)):
        raise DomainError(_("Only the group's organisers can do that."))


def _is_organiser(user: User, group_id: int) -> bool:
    return permissions.is_organiser(_membership(user, group_id))


def _clean_text(text: str, *, limit: int, empty: str, too_long: str) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise DomainError(empty)
    if len(cleaned) > limit:
        raise DomainError(too_long % {"limit": limit})
    return cleaned


def _clean_title(title: str) -> str:
    return _clean_text(
        title,
        limit=TITLE_MAX,
        empty=_("Give your post a title."),
        too_long=_("Keep the title to %(limit)s characters or fewer."),
    )


def _clean_post_body(body: str) -> str:
    return _clean_text(
        body,
        limit=POST_BODY_MAX,
        empty=_("Write your message. It cannot be empty."),
        too_long=_("Keep your message to %(limit)s characters or fewer."),
    )


def _clean_comment_body(body: str) -> str:
    return _clean_text(
        body,
        limit=COMMENT_BODY_MAX,
        empty=_("Write your comment. It cannot be empty."),
        too_long=_("Keep your comment to %(limit)s characters or fewer."),
    )


def _clean_kind(kind: str) -> str:
    if kind not in Post.Kind.values:
        raise DomainError(_("Choose what kind of post this is."))
    return kind


def _lock_post(post: Post) -> Post:
    # Work on the row as it is now, locked, so two organisers (or an author and an organiser) acting at once
    # each see the other's change rather than overwriting it.
    locked = Post.objects.select_for_update().filter(pk=post.pk).first()
    if locked is None:
        raise DomainError(_("That post has been deleted."))
    return locked


def _lock_comment(comment: Comment) -> Comment:
    locked = Comment.objects.select_for_update().filter(pk=comment.pk).first()
    if locked is None:
        raise DomainError(_("That comment has been deleted."))
    return locked


def _display_name(user: User) -> str:
    try:
        return user.profile.display_name
    except User.profile.RelatedObjectDoesNotExist:
        return _("A neighbour")


def _excerpt(text: str) -> str:
    return Truncator(" ".join(text.split())).chars(120)


def _active_members(group_id: int):
    """People who are active members of the group now: whoever left, was removed or banned hears nothing more."""
    return User.objects.filter(memberships__group_id=group_id, memberships__status=Membership.Status.ACTIVE)


def _post_url(group: Group, post: Post) -> str:
    return reverse("neighbourhoods:post-detail", args=[group.slug, post.pk])


def _refuse_if_hidden(post: Post) -> None:
    if post.hidden_at is not None:
        raise DomainError(_("An organiser has hidden this post, so it cannot be changed, answered or thanked."))


# --- Posts ---------------------------------------------------------------------------------------------------------


@transaction.atomic
def create_post(*, author: User, group: Group, kind: str, title: str, body: str) -> Post:
    """Publish a post on `group`'s board.

    Guarantees: the author may post there (an active member, and verified unless the group lets unverified members
    post; organisers always may); title and body are stripped and not empty; the body is stored with its sanitised
    HTML, so no raw HTML written by a person ever runs. Every other active member gets a "post.created"
    notification (only members: a members-only group's posts stay in the group).
    """
    _require_can_post(author, group)
    kind = _clean_kind(kind)
    title = _clean_title(title)
    body = _clean_post_body(body)
    post = Post.objects.create(
        group=group, author=author, kind=kind, title=title, body=body, body_html=render_markdown(body)
    )
    notifications.record(
        event="post.created",
        category=Category.POSTS,
        subject=post,
        actor=author,
        recipients=_active_members(group.pk).exclude(pk=author.pk),
        context={"author": _display_name(author), "group": group.name, "title": title, "excerpt": _excerpt(body)},
        url=_post_url(group, post),
    )
    return post


@transaction.atomic
def edit_post(*, author: User, post: Post, kind: str, title: str, body: str) -> Post:
    """Change your own post and mark it edited.

    Guarantees: only its author, while still allowed to post in the group, can change it; a hidden post cannot be
    changed; the same text rules as `create_post` apply. A post that stops being an offer or a request loses its
    "fulfilled" mark. Saving without changing anything leaves it as it was, without an "edited" mark.
    """
    post = _lock_post(post)
    if post.author_id != author.pk:
        raise DomainError(_("You can only change your own posts."))
    _refuse_if_hidden(post)
    _require_can_post(author, _group(post.group_id))
    kind = _clean_kind(kind)
    title = _clean_title(title)
    body = _clean_post_body(body)
    if (kind, title, body) == (post.kind, post.title, post.body):
        return post
    post.kind, post.title, post.body, post.body_html = kind, title, body, render_markdown(body)
    if not post.can_be_fulfilled:
        post.fulfilled_at = None
    post.edited_at = timezone.now()
    post.save()
    return post


@transaction.atomic
def delete_post(*, user: User, post: Post) -> None:
    """Delete a post with its comments and thanks, for good.

    Guarantees: only its author or an organiser of its group can delete it.
    """
    post = _lock_post(post)
    if post.author_id != user.pk and not _is_organiser(user, post.group_id):
        raise DomainError(_("You can only delete your own posts."))
    post.delete()


@transaction.atomic
def hide_post(*, organiser: User, post: Post) -> Post:
    """Take a post off the board without deleting it, recording which organiser hid it and when.

    Guarantees: only an organiser of the post's group can hide it. Hidden posts are shown to no one but organisers,
    who can show them again with `unhide_post`.
    """
    _require_organiser(organiser, post.group_id)
    post = _lock_post(post)
    if post.hidden_at is not None:
        raise DomainError(_("That post is already hidden."))
    post.hidden_at = timezone.now()
    post.hidden_by = organiser
    post.save(update_fields=["hidden_at", "hidden_by", "updated_at"])
    return post


@transaction.atomic
def unhide_post(*, organiser: User, post: Post) -> Post:
    """Put a hidden post back on the board. Guarantees: only an organiser of its group can; the hiding is cleared."""
    _require_organiser(organiser, post.group_id)
    post = _lock_post(post)
    if post.hidden_at is None:
        raise DomainError(_("That post is not hidden."))
    post.hidden_at = None
    post.hidden_by = None
    post.save(update_fields=["hidden_at", "hidden_by", "updated_at"])
    return post


@transaction.atomic
def mark_fulfilled(*, author: User, post: Post, fulfilled: bool = True) -> Post:
    """Mark your offer or request as fulfilled (or, with `fulfilled=False`, as open again).

    Guarantees: only the author can, only offers and requests can be fulfilled, and a hidden post cannot be changed.
    """
    post = _lock_post(post)
    if post.author_id != author.pk:
        raise DomainError(_("Only the person who posted it can mark it as fulfilled."))
    if not post.can_be_fulfilled:
        raise DomainError(_("Only offers and requests can be marked as fulfilled."))
    _refuse_if_hidden(post)
    if fulfilled and post.fulfilled_at is not None:
        raise DomainError(_("It is already marked as fulfilled."))
    if not fulfilled and post.fulfilled_at is None:
        raise DomainError(_("It is already open."))
    post.fulfilled_at = timezone.now() if fulfilled else None
    post.save(update_fields=["fulfilled_at", "updated_at"])
    return post


# --- Comments ------------------------------------------------------------------------------------------------------


@transaction.atomic
def add_comment(*, author: User, post: Post, body: str) -> Comment:
    """Comment on a post.

    Guarantees: the author may comment in the post's group (the same rule as posting); the post is not hidden; the
    body is stripped, not empty, and stored with its sanitised HTML. The post's author and everyone who commented on
    it before get a "comment.created" notification, if they are still active members of the group (the commenter
    never hears of their own comment).
    """
    post = _lock_post(post)
    _refuse_if_hidden(post)
    group = _group(post.group_id)
    _require_can_post(author, group, commenting=True)
    body = _clean_comment_body(body)
    comment = Comment.objects.create(post=post, author=author, body=body, body_html=render_markdown(body))
    commented = Comment.objects.filter(post=post).values("author_id")
    notifications.record(
        event="comment.created",
        category=Category.REPLIES,
        subject=comment,  # each comment is news, however many came before on the same post
        actor=author,
        recipients=_active_members(group.pk).filter(Q(pk=post.author_id) | Q(pk__in=commented)).exclude(pk=author.pk),
        context={"author": _display_name(author), "title": post.title, "excerpt": _excerpt(body)},
        url=f"{_post_url(group, post)}#comment-{comment.pk}",
    )
    return comment


@transaction.atomic
def edit_comment(*, author: User, comment: Comment, body: str) -> Comment:
    """Change your own comment and mark it edited.

    Guarantees: only its author, while still allowed to comment in the group, can change it; hidden comments and
    comments on hidden posts cannot be changed; the same text rules as `add_comment` apply.
    """
    comment = _lock_comment(comment)
    if comment.author_id != author.pk:
        raise DomainError(_("You can only change your own comments."))
    if comment.hidden_at is not None:
        raise DomainError(_("An organiser has hidden this comment, so it cannot be changed."))
    post = Post.objects.get(pk=comment.post_id)
    _refuse_if_hidden(post)
    _require_can_post(author, _group(post.group_id), commenting=True)
    body = _clean_comment_body(body)
    if body == comment.body:
        return comment
    comment.body, comment.body_html = body, render_markdown(body)
    comment.edited_at = timezone.now()
    comment.save()
    return comment


@transaction.atomic
def delete_comment(*, user: User, comment: Comment) -> None:
    """Delete a comment for good. Guarantees: only its author or an organiser of the post's group can."""
    comment = _lock_comment(comment)
    if comment.author_id != user.pk:
        group_id = Post.objects.filter(pk=comment.post_id).values_list("group_id", flat=True).get()
        if not _is_organiser(user, group_id):
            raise DomainError(_("You can only delete your own comments."))
    comment.delete()


def _set_comment_hidden(*, organiser: User, comment: Comment, hidden: bool) -> Comment:
    comment = _lock_comment(comment)
    group_id = Post.objects.filter(pk=comment.post_id).values_list("group_id", flat=True).get()
    _require_organiser(organiser, group_id)
    if hidden and comment.hidden_at is not None:
        raise DomainError(_("That comment is already hidden."))
    if not hidden and comment.hidden_at is None:
        raise DomainError(_("That comment is not hidden."))
    comment.hidden_at = timezone.now() if hidden else None
    comment.save(update_fields=["hidden_at", "updated_at"])
    return comment


@transaction.atomic
def hide_comment(*, organiser: User, comment: Comment) -> Comment:
    """Hide a comment from everyone but organisers. Guarantees: only an organiser of the post's group can.

    The model has no `hidden_by` for comments, so only the time is recorded.
    """
    return _set_comment_hidden(organiser=organiser, comment=comment, hidden=True)


@transaction.atomic
def unhide_comment(*, organiser: User, comment: Comment) -> Comment:
    """Show a hidden comment again. Guarantees: only an organiser of the post's group can."""
    return _set_comment_hidden(organiser=organiser, comment=comment, hidden=False)


# --- Thanks --------------------------------------------------------------------------------------------------------


@transaction.atomic
def thank_post(*, user: User, post: Post) -> Thanks:
    """Say thanks for a post.

    Guarantees: only active members of the post's group can; never for your own post or a hidden one; at most one
    thanks per person per post, even when the button is pressed twice at once (the database's unique constraint
    decides, and the loser gets a friendly message instead of an error page). The post's author gets a
    "post.thanked" notification while they are still an active member of the group.
    """
    post = Post.objects.filter(pk=post.pk).first()
    if post is None:
        raise DomainError(_("That post has been deleted."))
    _refuse_if_hidden(post)
    if post.author_id == user.pk:
        raise DomainError(_("You cannot thank yourself for your own post."))
    if not permissions.is_member(_membership(user, post.group_id)):
        raise DomainError(_("Only members of the group can say thanks."))
    try:
        # A savepoint, so the failed insert leaves the surrounding transaction usable.
        with transaction.atomic():
            thanks = Thanks.objects.create(post=post, user=user)
    except IntegrityError as exc:
        if "thanks_once_per_person" in str(exc):
            raise DomainError(_("You have already said thanks for this post.")) from exc
        raise DomainError(_("That post has been deleted.")) from exc  # deleted between our read and the insert
    group = _group(post.group_id)
    notifications.record(
        event="post.thanked",
        category=Category.REPLIES,
        subject=thanks,
        actor=user,
        recipients=_active_members(group.pk).filter(pk=post.author_id),
        context={"name": _display_name(user), "title": post.title},
        url=_post_url(group, post),
    )
    return thanks
