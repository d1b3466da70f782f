"""Reads for the notice board. Each takes the viewer's `GroupContext` (already checked by
`get_group_content_context`, so members-only boards never reach non-members) and runs a fixed number of queries.

Hidden posts and comments exist only for organisers, who see them marked as hidden; for everyone else a hidden
post is the same 404 as a missing one. Posts and comments by someone the viewer is kept apart from by a block (either
of them blocked the other) are left out the same way, except for organisers, who moderate the whole board.
"""

from django.db.models import BooleanField, Count, Exists, IntegerField, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404

from moderation.selectors import blocked_either_way

from ..models import Comment, Post, Thanks
from . import GroupContext

PAGE_SIZE = 20


def kept_apart_from(context: GroupContext, viewer) -> Exists | None:
    """Where the row's author and `viewer` are kept apart by a block, for leaving their posts and comments out; None
    when nothing is left out (an organiser, or nobody signed in)."""
    if context.is_organiser or viewer is None or not viewer.is_authenticated:
        return None
    return blocked_either_way(viewer, OuterRef("author_id"))


def _count(model, kept_apart: Exists | None = None, **filters) -> Coalesce:
    # A correlated subquery per count, not Count() over joins: joining comments and thanks together multiplies the
    # rows (comments times thanks per post) and makes the database count every post in the group before paginating.
    counted = model.objects.filter(post=OuterRef("pk"), **filters)
    if kept_apart is not None:
        counted = counted.exclude(kept_apart)
    counted = counted.order_by().values("post").annotate(n=Count("pk")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def _thanked_by(viewer):
    if viewer is None or not viewer.is_authenticated:
        return Value(False, output_field=BooleanField())
    return Exists(Thanks.objects.filter(post=OuterRef("pk"), user=viewer))


def _board_posts(context: GroupContext, viewer) -> QuerySet[Post]:
    # Visible posts (plus hidden ones for organisers), with comment and thanks counts from subqueries: Count()s
    # over two joins would multiply rows and slow a busy board.
    posts = Post.objects.filter(group=context.group)
    if not context.is_organiser:
        posts = posts.filter(hidden_at__isnull=True)
    kept_apart = kept_apart_from(context, viewer)
    if kept_apart is not None:
        posts = posts.exclude(kept_apart)
    return (
        posts.select_related("author__profile", "hidden_by__profile")
        .annotate(
            comment_count=_count(Comment, kept_apart, hidden_at__isnull=True),
            thanks_count=_count(Thanks),
            has_thanked=_thanked_by(viewer),
        )
        .order_by("-created_at", "-pk")
    )


def kind_or_none(kind: str | None) -> str | None:
    """The post kind asked for in a filter, or None (all kinds) when it is missing or not a kind we know."""
    return kind if kind in Post.Kind.values else None


def list_board_posts(*, context: GroupContext, viewer, kind: str | None = None) -> QuerySet[Post]:
    """The board as `viewer` sees it, newest first: author names, comment and thanks counts, and whether the viewer
    has thanked each post, all in the one query (plus one to count for the paginator).

    Organisers also get hidden posts (`post.hidden_at` set); comment counts leave out hidden comments for everyone.
    """
    posts = _board_posts(context, viewer)
    kind = kind_or_none(kind)
    if kind is not None:
        posts = posts.filter(kind=kind)
    return posts


def get_post(*, context: GroupContext, viewer, post_id: int) -> Post:
    """One post of the group with its counts and `has_thanked`, or 404 (hidden ones too, unless an organiser asks).

    One query. `post.group` is the context's group, so building its address costs nothing.
    """
    post = _board_posts(context, viewer).filter(pk=post_id).first()
    if post is None:
        raise Http404
    post.group = context.group
    return post


def list_comments(*, context: GroupContext, post: Post, viewer=None) -> list[Comment]:
    """The post's comments, oldest first, with their authors' names (one query), as `viewer` sees them: without
    those of anyone kept apart from them by a block.

    Organisers also get hidden comments (`comment.hidden_at` set) so they can show them again.
    """
    comments = Comment.objects.filter(post=post).select_related("author__profile").order_by("created_at", "pk")
    if not context.is_organiser:
        comments = comments.filter(hidden_at__isnull=True)
    kept_apart = kept_apart_from(context, viewer)
    if kept_apart is not None:
        comments = comments.exclude(kept_apart)
    result = list(comments)
    for comment in result:
        comment.post = post
    return result


def get_comment(*, context: GroupContext, post: Post, comment_id: int) -> Comment:
    """One comment on `post`, or 404 (a hidden one too, unless an organiser asks). One query."""
    visible = Q() if context.is_organiser else Q(hidden_at__isnull=True)
    comment = Comment.objects.filter(visible, post=post, pk=comment_id).select_related("author__profile").first()
    if comment is None:
        raise Http404
    comment.post = post
    return comment
