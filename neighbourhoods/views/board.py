"""The notice board: posts, comments and thanks.

Every page starts from `get_group_content_context`, so a members-only group's board is a 404 to anyone who is not an
active member, and every post or comment is fetched through `selectors.board`, so a hidden one is a 404 to everyone
but the group's organisers. Permission checks here give a 403; the services check the same rules again.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from core.exceptions import DomainError

from .. import permissions
from ..forms.board import CommentForm, PostForm
from ..models import Comment, Post
from ..selectors import GroupContext, get_group_content_context
from ..selectors import board as board_selectors
from ..services import board as board_services
from .base import attempt

# --- Who may do what with one post or comment (the group-wide rules are in `permissions`) -------------------------


def _can_edit_post(user, context: GroupContext, post: Post) -> bool:
    return permissions.can_edit_post(user, post) and permissions.can_post(context.group, context.membership)


def _can_delete_post(user, context: GroupContext, post: Post) -> bool:
    return permissions.can_edit_post(user, post) or permissions.can_hide(context.membership)


def _can_fulfil(user, post: Post) -> bool:
    return permissions.can_edit_post(user, post) and post.can_be_fulfilled


def _can_thank(user, context: GroupContext, post: Post) -> bool:
    return permissions.is_member(context.membership) and post.author_id != user.pk


def _is_comment_author(user, comment: Comment) -> bool:
    return user.is_authenticated and comment.author_id == user.pk


def _can_edit_comment(user, context: GroupContext, comment: Comment) -> bool:
    return _is_comment_author(user, comment) and permissions.can_comment(context.group, context.membership)


def _can_delete_comment(user, context: GroupContext, comment: Comment) -> bool:
    return _is_comment_author(user, comment) or permissions.can_hide(context.membership)


# --- Fetching ------------------------------------------------------------------------------------------------------


def _post(request, slug: str, post_id: int) -> tuple[GroupContext, Post]:
    context = get_group_content_context(viewer=request.user, slug=slug)
    return context, board_selectors.get_post(context=context, viewer=request.user, post_id=post_id)


def _comment(request, slug: str, post_id: int, comment_id: int) -> tuple[GroupContext, Post, Comment]:
    context, post = _post(request, slug, post_id)
    return context, post, board_selectors.get_comment(context=context, post=post, comment_id=comment_id)


def _comments_url(post: Post) -> str:
    return f"{post.get_absolute_url()}#comments"


# --- The board -----------------------------------------------------------------------------------------------------


@login_not_required
def board(request, slug):
    """The group's posts, newest first, 20 a page, optionally only one kind (`?kind=offer`)."""
    context = get_group_content_context(viewer=request.user, slug=slug)
    kind = board_selectors.kind_or_none(request.GET.get("kind"))
    posts = board_selectors.list_board_posts(context=context, viewer=request.user, kind=kind)
    page = Paginator(posts, board_selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "neighbourhoods/board.html",
        {
            "ctx": context,
            "group": context.group,
            "page": page,
            "kind": kind,
            "kind_label": Post.Kind(kind).label if kind else "",
            "kinds": Post.Kind.choices,
            "can_post": permissions.can_post(context.group, context.membership),
        },
    )


def post_create(request, slug):
    context = get_group_content_context(viewer=request.user, slug=slug)
    if not permissions.can_post(context.group, context.membership):
        raise PermissionDenied
    initial = {"kind": board_selectors.kind_or_none(request.GET.get("kind")) or Post.Kind.NOTICE}
    form = PostForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            post = board_services.create_post(author=request.user, group=context.group, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your post is on the board."))
            return redirect(post)
    return render(
        request,
        "neighbourhoods/post_form.html",
        {"ctx": context, "group": context.group, "form": form, "creating": True},
    )


# --- One post ------------------------------------------------------------------------------------------------------


def _render_detail(request, context: GroupContext, post: Post, comment_form: CommentForm | None = None):
    user = request.user
    comments = board_selectors.list_comments(context=context, post=post, viewer=request.user)
    for comment in comments:
        comment.viewer_can_edit = _can_edit_comment(user, context, comment) and not post.hidden_at
        comment.viewer_can_delete = _can_delete_comment(user, context, comment)
    can_comment = permissions.can_comment(context.group, context.membership) and post.hidden_at is None
    if comment_form is None and can_comment:
        comment_form = CommentForm()
    return render(
        request,
        "neighbourhoods/post_detail.html",
        {
            "ctx": context,
            "group": context.group,
            "post": post,
            "comments": comments,
            "comment_form": comment_form if can_comment else None,
            "can_edit": _can_edit_post(user, context, post) and post.hidden_at is None,
            "can_delete": _can_delete_post(user, context, post),
            "can_fulfil": _can_fulfil(user, post) and post.hidden_at is None,
            "can_thank": _can_thank(user, context, post) and post.hidden_at is None,
            "can_moderate": permissions.can_hide(context.membership),
        },
    )


@login_not_required
def post_detail(request, slug, post_id):
    context, post = _post(request, slug, post_id)
    return _render_detail(request, context, post)


def post_edit(request, slug, post_id):
    context, post = _post(request, slug, post_id)
    if not _can_edit_post(request.user, context, post):
        raise PermissionDenied
    form = PostForm(request.POST or None, initial={"kind": post.kind, "title": post.title, "body": post.body})
    if request.method == "POST" and form.is_valid():
        try:
            board_services.edit_post(author=request.user, post=post, **form.cleaned_data)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your changes are saved."))
            return redirect(post)
    return render(
        request,
        "neighbourhoods/post_form.html",
        {"ctx": context, "group": context.group, "form": form, "post": post, "creating": False},
    )


def post_delete(request, slug, post_id):
    """GET asks "are you sure?"; POST deletes the post with its comments and thanks."""
    context, post = _post(request, slug, post_id)
    if not _can_delete_post(request.user, context, post):
        raise PermissionDenied
    if request.method == "POST":
        try:
            board_services.delete_post(user=request.user, post=post)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect(post)
        messages.success(request, _("The post “%(title)s” has been deleted.") % {"title": post.title})
        return redirect("neighbourhoods:board", slug=context.group.slug)
    return render(
        request,
        "neighbourhoods/post_confirm_delete.html",
        {"ctx": context, "group": context.group, "post": post},
    )


@require_POST
def post_hide(request, slug, post_id):
    context, post = _post(request, slug, post_id)
    if not permissions.can_hide(context.membership):
        raise PermissionDenied
    attempt(
        request,
        lambda: board_services.hide_post(organiser=request.user, post=post),
        success=_("The post is hidden. Only organisers can see it now."),
    )
    return redirect(post)


@require_POST
def post_unhide(request, slug, post_id):
    context, post = _post(request, slug, post_id)
    if not permissions.can_hide(context.membership):
        raise PermissionDenied
    attempt(
        request,
        lambda: board_services.unhide_post(organiser=request.user, post=post),
        success=_("The post is back on the board."),
    )
    return redirect(post)


@require_POST
def post_fulfil(request, slug, post_id):
    """Mark an offer or request fulfilled; `fulfilled=no` opens it again."""
    _context, post = _post(request, slug, post_id)
    if not _can_fulfil(request.user, post):
        raise PermissionDenied
    fulfilled = request.POST.get("fulfilled") != "no"
    attempt(
        request,
        lambda: board_services.mark_fulfilled(author=request.user, post=post, fulfilled=fulfilled),
        success=_("Marked as fulfilled. Thank you for letting neighbours know.") if fulfilled else _("Open again."),
    )
    return redirect(post)


@require_POST
def post_thanks(request, slug, post_id):
    context, post = _post(request, slug, post_id)
    if not permissions.is_member(context.membership):
        raise PermissionDenied
    attempt(
        request,
        lambda: board_services.thank_post(user=request.user, post=post),
        success=_("You said thanks to %(name)s.") % {"name": post.author.profile.display_name},
    )
    return redirect(post)


# --- Comments ------------------------------------------------------------------------------------------------------


@require_POST
def comment_create(request, slug, post_id):
    """Add a comment; on a problem the post page comes back with the error and the comment as typed."""
    context, post = _post(request, slug, post_id)
    if not permissions.can_comment(context.group, context.membership):
        raise PermissionDenied
    form = CommentForm(request.POST)
    if form.is_valid():
        try:
            comment = board_services.add_comment(author=request.user, post=post, body=form.cleaned_data["body"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your comment has been added."))
            return redirect(f"{post.get_absolute_url()}#comment-{comment.pk}")
    return _render_detail(request, context, post, comment_form=form)


def comment_edit(request, slug, post_id, comment_id):
    context, post, comment = _comment(request, slug, post_id, comment_id)
    if not _can_edit_comment(request.user, context, comment):
        raise PermissionDenied
    form = CommentForm(request.POST or None, initial={"body": comment.body})
    if request.method == "POST" and form.is_valid():
        try:
            board_services.edit_comment(author=request.user, comment=comment, body=form.cleaned_data["body"])
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Your comment is saved."))
            return redirect(f"{post.get_absolute_url()}#comment-{comment.pk}")
    return render(
        request,
        "neighbourhoods/comment_form.html",
        {"ctx": context, "group": context.group, "post": post, "comment": comment, "form": form},
    )


def comment_delete(request, slug, post_id, comment_id):
    """GET asks "are you sure?"; POST deletes the comment."""
    context, post, comment = _comment(request, slug, post_id, comment_id)
    if not _can_delete_comment(request.user, context, comment):
        raise PermissionDenied
    if request.method == "POST":
        try:
            board_services.delete_comment(user=request.user, comment=comment)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("The comment has been deleted."))
        return redirect(_comments_url(post))
    return render(
        request,
        "neighbourhoods/post_confirm_delete.html",
        {"ctx": context, "group": context.group, "post": post, "comment": comment},
    )


@require_POST
def comment_hide(request, slug, post_id, comment_id):
    context, post, comment = _comment(request, slug, post_id, comment_id)
    if not permissions.can_hide(context.membership):
        raise PermissionDenied
    attempt(
        request,
        lambda: board_services.hide_comment(organiser=request.user, comment=comment),
        success=_("The comment is hidden. Only organisers can see it now."),
    )
    return redirect(f"{post.get_absolute_url()}#comment-{comment.pk}")


@require_POST
def comment_unhide(request, slug, post_id, comment_id):
    context, post, comment = _comment(request, slug, post_id, comment_id)
    if not permissions.can_hide(context.membership):
        raise PermissionDenied
    attempt(
        request,
        lambda: board_services.unhide_comment(organiser=request.user, comment=comment),
        success=_("The comment is shown again."),
    )
    return redirect(f"{post.get_absolute_url()}#comment-{comment.pk}")


POST_URL = "groups/<slug:slug>/board/<int:post_id>/"
COMMENT_URL = POST_URL + "comments/<int:comment_id>/"

urlpatterns = [
    path("groups/<slug:slug>/board/", board, name="board"),
    path("groups/<slug:slug>/board/new/", post_create, name="post-create"),
    path(POST_URL, post_detail, name="post-detail"),
    path(POST_URL + "edit/", post_edit, name="post-edit"),
    path(POST_URL + "delete/", post_delete, name="post-delete"),
    path(POST_URL + "hide/", post_hide, name="post-hide"),
    path(POST_URL + "unhide/", post_unhide, name="post-unhide"),
    path(POST_URL + "fulfil/", post_fulfil, name="post-fulfil"),
    path(POST_URL + "thanks/", post_thanks, name="post-thanks"),
    path(POST_URL + "comments/", comment_create, name="comment-create"),
    path(COMMENT_URL + "edit/", comment_edit, name="comment-edit"),
    path(COMMENT_URL + "delete/", comment_delete, name="comment-delete"),
    path(COMMENT_URL + "hide/", comment_hide, name="comment-hide"),
    path(COMMENT_URL + "unhide/", comment_unhide, name="comment-unhide"),
]
