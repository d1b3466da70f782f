"""The notice board's pages: every action walked through every role, in public and members-only groups; what each
page shows and hides; escaping; forms that keep what was typed; and fixed query budgets."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from neighbourhoods.models import Comment, Post, Thanks
from tests.factories import CommentFactory, GroupFactory, MembershipFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db

ROLES = [
    "visitor",
    "non_member",
    "pending",
    "member",
    "unverified",
    "banned",
    "organiser",
    "other_organiser",
    "author",
]
# People who may not see a members-only group's content at all.
OUTSIDERS = {"non_member", "pending", "banned", "other_organiser"}
LOGIN_URL = reverse(settings.LOGIN_URL)


@dataclass
class World:
    """A group (which forbids unverified members from posting), someone in each role, and one post by `author`
    (an offer) with one comment by the same author."""

    group: object
    users: dict
    post: Post
    comment: Comment

    def refresh(self) -> None:
        self.post = Post.objects.filter(pk=self.post.pk).first()
        self.comment = Comment.objects.filter(pk=self.comment.pk).first()


def make_world(visibility: str) -> World:
    group = GroupFactory(visibility=visibility, unverified_can_post=False)
    other = GroupFactory()
    users = {
        "visitor": None,
        "non_member": UserFactory(),
        "pending": MembershipFactory(group=group, status="pending", verified_at=None, joined_at=None).user,
        "member": MembershipFactory(group=group).user,
        "unverified": MembershipFactory(group=group, verified_at=None, verified_by="").user,
        "banned": MembershipFactory(group=group, status="banned").user,
        "organiser": MembershipFactory(group=group, role="organiser").user,
        "other_organiser": MembershipFactory(group=other, role="organiser").user,
        "author": MembershipFactory(group=group).user,
    }
    post = PostFactory(group=group, author=users["author"], kind="offer", title="Ladder to lend", body="Ask at 12.")
    comment = CommentFactory(post=post, author=users["author"], body="Still free this week.")
    return World(group=group, users=users, post=post, comment=comment)


def post_url(name: str) -> Callable[[World], str]:
    return lambda w: reverse(f"neighbourhoods:{name}", args=[w.group.slug, w.post.pk])


def comment_url(name: str) -> Callable[[World], str]:
    return lambda w: reverse(f"neighbourhoods:{name}", args=[w.group.slug, w.post.pk, w.comment.pk])


def hide_post(w: World) -> None:
    Post.objects.filter(pk=w.post.pk).update(hidden_at=timezone.now(), hidden_by=w.users["organiser"])


def hide_comment(w: World) -> None:
    Comment.objects.filter(pk=w.comment.pk).update(hidden_at=timezone.now())


@dataclass
class Action:
    name: str
    method: str
    url: Callable[[World], str]
    allowed: set  # roles for which it works (in any group they can see)
    data: dict = field(default_factory=dict)
    effect: Callable[[World], bool] | None = None  # did the write happen?
    public: bool = False  # open to visitors (no sign-in needed)
    setup: Callable[[World], None] | None = None
    overrides: dict = field(default_factory=dict)  # role → outcome, where it is not simply allowed/forbidden

    @property
    def ok_status(self) -> int:
        return 200 if self.method == "get" else 302


EVERYONE = set(ROLES)
MEMBERS_WHO_CAN_POST = {"member", "organiser", "author"}
NOT_ORGANISERS_HIDDEN = {role: "hidden" for role in ROLES if role not in {"visitor", "organiser"}}

ACTIONS = [
    Action("board", "get", lambda w: reverse("neighbourhoods:board", args=[w.group.slug]), EVERYONE, public=True),
    Action("post-detail", "get", post_url("post-detail"), EVERYONE, public=True),
    Action(
        "post-create (page)",
        "get",
        lambda w: reverse("neighbourhoods:post-create", args=[w.group.slug]),
        MEMBERS_WHO_CAN_POST,
    ),
    Action(
        "post-create",
        "post",
        lambda w: reverse("neighbourhoods:post-create", args=[w.group.slug]),
        MEMBERS_WHO_CAN_POST,
        data={"kind": "request", "title": "Borrow a drill?", "body": "Just for an afternoon."},
        effect=lambda w: Post.objects.filter(title="Borrow a drill?").exists(),
    ),
    Action("post-edit (page)", "get", post_url("post-edit"), {"author"}),
    Action(
        "post-edit",
        "post",
        post_url("post-edit"),
        {"author"},
        data={"kind": "offer", "title": "Ladder (tall)", "body": "Ask at 12."},
        effect=lambda w: w.post.title == "Ladder (tall)",
    ),
    Action("post-delete (confirm)", "get", post_url("post-delete"), {"author", "organiser"}),
    Action("post-delete", "post", post_url("post-delete"), {"author", "organiser"}, effect=lambda w: w.post is None),
    Action("post-hide", "post", post_url("post-hide"), {"organiser"}, effect=lambda w: w.post.hidden_at is not None),
    Action(
        "post-unhide",
        "post",
        post_url("post-unhide"),
        {"organiser"},
        setup=hide_post,
        effect=lambda w: w.post.hidden_at is None,
        overrides=NOT_ORGANISERS_HIDDEN,
    ),
    Action(
        "post-fulfil", "post", post_url("post-fulfil"), {"author"}, effect=lambda w: w.post.fulfilled_at is not None
    ),
    Action(
        "post-thanks",
        "post",
        post_url("post-thanks"),
        {"member", "unverified", "organiser"},
        effect=lambda w: Thanks.objects.filter(post=w.post).exists(),
        overrides={"author": "refused"},  # a member, but not for their own post: a message, not a 403
    ),
    Action(
        "comment-create",
        "post",
        post_url("comment-create"),
        MEMBERS_WHO_CAN_POST,
        data={"body": "Could I borrow it on Saturday?"},
        effect=lambda w: Comment.objects.filter(body="Could I borrow it on Saturday?").exists(),
    ),
    Action("comment-edit (page)", "get", comment_url("comment-edit"), {"author"}),
    Action(
        "comment-edit",
        "post",
        comment_url("comment-edit"),
        {"author"},
        data={"body": "Gone now, sorry."},
        effect=lambda w: w.comment.body == "Gone now, sorry.",
    ),
    Action("comment-delete (confirm)", "get", comment_url("comment-delete"), {"author", "organiser"}),
    Action(
        "comment-delete",
        "post",
        comment_url("comment-delete"),
        {"author", "organiser"},
        effect=lambda w: w.comment is None,
    ),
    Action(
        "comment-hide",
        "post",
        comment_url("comment-hide"),
        {"organiser"},
        effect=lambda w: w.comment.hidden_at is not None,
    ),
    Action(
        "comment-unhide",
        "post",
        comment_url("comment-unhide"),
        {"organiser"},
        setup=hide_comment,
        effect=lambda w: w.comment.hidden_at is None,
        overrides=NOT_ORGANISERS_HIDDEN,
    ),
]


def expected_outcome(action: Action, role: str, visibility: str) -> str:
    if visibility == "members" and role in OUTSIDERS:
        return "hidden"  # a members-only group's board does not exist for them
    if role == "visitor":
        if action.public:
            return "ok" if visibility == "public" else "hidden"
        return "login"
    if role in action.overrides:
        return action.overrides[role]
    return "ok" if role in action.allowed else "forbidden"


MATRIX = [
    pytest.param(action, role, visibility, id=f"{visibility}-{action.name}-{role}")
    for visibility in ("public", "members")
    for action in ACTIONS
    for role in ROLES
]


@pytest.mark.parametrize(("action", "role", "visibility"), MATRIX)
def test_permission_matrix(client, action, role, visibility):
    world = make_world(visibility)
    if action.setup:
        action.setup(world)
    user = world.users[role]
    if user is not None:
        client.force_login(user)
    url = action.url(world)
    response = client.post(url, action.data) if action.method == "post" else client.get(url)
    world.refresh()
    outcome = expected_outcome(action, role, visibility)

    if outcome == "ok":
        assert response.status_code == action.ok_status
    elif outcome == "refused":
        assert response.status_code == 302
    elif outcome == "forbidden":
        assert response.status_code == 403
    elif outcome == "hidden":
        assert response.status_code == 404
    elif outcome == "login":
        assert response.status_code == 302
        assert response.url.startswith(LOGIN_URL)
    if outcome != "login" and response.status_code == 302:
        assert not response.url.startswith(LOGIN_URL)
    if action.effect is not None:
        assert action.effect(world) is (outcome == "ok")
    if response.status_code != 302 and outcome != "ok":
        # Whatever the refusal, the post's content never appears in it.
        html = response.content.decode()
        assert "Ladder to lend" not in html
        assert "Still free this week" not in html


# --- What the pages show --------------------------------------------------------------------------------------------


@pytest.fixture
def world():
    return make_world("public")


def test_members_only_content_never_reaches_non_members(client):
    world = make_world("members")
    Thanks.objects.create(post=world.post, user=world.users["member"])
    board_url = reverse("neighbourhoods:board", args=[world.group.slug])
    for role in ("visitor", *sorted(OUTSIDERS)):
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        home = client.get(world.group.get_absolute_url())
        assert home.status_code == 200
        html = home.content.decode()
        assert "Ladder to lend" not in html
        assert "Still free" not in html
        assert "comment" not in html.lower().replace("no comments", "")
        for url in (board_url, world.post.get_absolute_url(), f"{board_url}?kind=offer"):
            response = client.get(url)
            assert response.status_code == 404, (role, url)
            assert "Ladder to lend" not in response.content.decode()

    client.force_login(world.users["member"])
    html = client.get(board_url).content.decode()
    assert "Ladder to lend" in html
    assert "1 comment" in html
    assert "1 thanks" in html


def test_html_and_script_in_titles_and_bodies_are_escaped(client, world):
    member = world.users["member"]
    client.force_login(member)
    response = client.post(
        reverse("neighbourhoods:post-create", args=[world.group.slug]),
        {"kind": "notice", "title": "<script>alert('t')</script>", "body": "<script>alert('b')</script> **hi**"},
    )
    assert response.status_code == 302
    post = Post.objects.get(author=member)
    client.post(
        reverse("neighbourhoods:comment-create", args=[world.group.slug, post.pk]),
        {"body": '<script>alert("c")</script><a href="javascript:alert(1)">x</a> [y](javascript:alert(2))'},
    )
    assert Comment.objects.filter(post=post).count() == 1
    for url in (reverse("neighbourhoods:board", args=[world.group.slug]), post.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "<script" not in html
        assert '<a href="javascript:' not in html  # shown as text at most, never as a link
        assert "&lt;script&gt;" in html
    assert "<strong>hi</strong>" in client.get(post.get_absolute_url()).content.decode()


def test_an_empty_post_gets_a_form_error_and_keeps_the_title(client, world):
    client.force_login(world.users["member"])
    response = client.post(
        reverse("neighbourhoods:post-create", args=[world.group.slug]),
        {"kind": "offer", "title": "Spare paint", "body": "   \n  "},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Write your message. It cannot be empty." in html
    assert 'value="Spare paint"' in html
    assert response.context["form"]["kind"].value() == "offer"
    assert "<title>Error:" in html
    assert not Post.objects.filter(title="Spare paint").exists()


def test_an_overlong_comment_is_refused_and_kept_as_typed(client, world):
    client.force_login(world.users["member"])
    typed = "Lovely! " * 300
    response = client.post(
        reverse("neighbourhoods:comment-create", args=[world.group.slug, world.post.pk]), {"body": typed}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "There is a problem" in html
    assert "Lovely! Lovely!" in html
    assert "Ladder to lend" in html  # still the post's page
    assert Comment.objects.count() == 1


def test_a_rule_broken_in_the_service_shows_as_a_form_error_keeping_the_text(client, world, monkeypatch):
    from core.exceptions import DomainError
    from neighbourhoods.services import board as services

    def refuse(**kwargs):
        raise DomainError("The board is resting.")

    monkeypatch.setattr(services, "create_post", refuse)
    client.force_login(world.users["member"])
    response = client.post(
        reverse("neighbourhoods:post-create", args=[world.group.slug]),
        {"kind": "notice", "title": "Street party", "body": "Saturday at 2"},
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "The board is resting." in html
    assert 'value="Street party"' in html
    assert "Saturday at 2" in html


def test_thanks_twice_gives_one_thanks_and_a_message(client, world):
    client.force_login(world.users["member"])
    url = reverse("neighbourhoods:post-thanks", args=[world.group.slug, world.post.pk])
    client.post(url)
    response = client.post(url, follow=True)
    assert Thanks.objects.filter(post=world.post).count() == 1
    html = response.content.decode()
    assert "You have already said thanks for this post." in html
    assert "You said thanks" in html
    assert "1 person said thanks" in html


def test_a_hidden_post_is_marked_for_organisers_and_gone_for_everyone_else(client, world):
    hide_post(world)
    board_url = reverse("neighbourhoods:board", args=[world.group.slug])
    client.force_login(world.users["member"])
    assert "Ladder to lend" not in client.get(board_url).content.decode()
    assert client.get(world.post.get_absolute_url()).status_code == 404
    client.force_login(world.users["author"])
    assert client.get(world.post.get_absolute_url()).status_code == 404

    client.force_login(world.users["organiser"])
    board_html = client.get(board_url).content.decode()
    assert "Ladder to lend" in board_html
    assert "Hidden" in board_html
    detail = client.get(world.post.get_absolute_url())
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Only the group's organisers can see it." in html
    assert "Show on the board again" in html
    assert "Add a comment" not in html


def test_hidden_comments_are_marked_for_organisers_and_gone_for_members(client, world):
    hide_comment(world)
    client.force_login(world.users["member"])
    html = client.get(world.post.get_absolute_url()).content.decode()
    assert "Still free this week" not in html
    assert "No comments yet." in html
    client.force_login(world.users["organiser"])
    html = client.get(world.post.get_absolute_url()).content.decode()
    assert "Still free this week" in html
    assert "badge--hidden" in html
    assert "Show again" in html


def test_pages_show_display_names_never_emails(client, world):
    author = world.users["author"]
    client.force_login(world.users["member"])
    for url in (reverse("neighbourhoods:board", args=[world.group.slug]), world.post.get_absolute_url()):
        html = client.get(url).content.decode()
        assert author.profile.display_name in html
        assert author.email not in html


def test_the_post_shows_its_kind_time_fulfilled_and_edited_state(client, world):
    Post.objects.filter(pk=world.post.pk).update(fulfilled_at=timezone.now(), edited_at=timezone.now())
    client.force_login(world.users["member"])
    for url in (reverse("neighbourhoods:board", args=[world.group.slug]), world.post.get_absolute_url()):
        html = client.get(url).content.decode()
        assert "Offer" in html
        assert f'<time datetime="{timezone.localtime(world.post.created_at).isoformat()}' in html
        assert "Fulfilled" in html
        assert "(edited" in html


def test_the_author_sees_their_actions_and_a_neighbour_sees_theirs(client, world):
    client.force_login(world.users["author"])
    html = client.get(world.post.get_absolute_url()).content.decode()
    assert "Edit your post" in html
    assert "Mark as fulfilled" in html
    assert "Say thanks" not in html
    assert "Hide from the board" not in html
    client.force_login(world.users["member"])
    html = client.get(world.post.get_absolute_url()).content.decode()
    assert "Say thanks" in html
    assert "Edit your post" not in html
    assert "Delete post" not in html
    assert "Add a comment" in html
    client.force_login(world.users["unverified"])
    html = client.get(world.post.get_absolute_url()).content.decode()
    assert "Add a comment" not in html
    assert "Only verified members can comment" in html


def test_deleting_asks_first_then_deletes(client, world):
    client.force_login(world.users["author"])
    url = reverse("neighbourhoods:post-delete", args=[world.group.slug, world.post.pk])
    confirm = client.get(url)
    assert confirm.status_code == 200
    assert "Delete this post?" in confirm.content.decode()
    assert Post.objects.filter(pk=world.post.pk).exists()
    response = client.post(url)
    assert response.status_code == 302
    assert response.url == reverse("neighbourhoods:board", args=[world.group.slug])
    assert not Post.objects.filter(pk=world.post.pk).exists()


def test_a_new_post_redirects_to_its_page_with_a_message(client, world):
    client.force_login(world.users["member"])
    response = client.post(
        reverse("neighbourhoods:post-create", args=[world.group.slug]),
        {"kind": "hello", "title": "Hello from 14", "body": "New here!"},
        follow=True,
    )
    post = Post.objects.get(title="Hello from 14")
    assert response.redirect_chain[-1][0] == post.get_absolute_url()
    assert "Your post is on the board." in response.content.decode()


def test_the_board_filters_by_kind_and_paginates_twenty_a_page(client, world):
    author = world.users["author"]
    PostFactory.create_batch(24, group=world.group, author=author, kind="request", title="Wanted")
    PostFactory.create_batch(3, group=world.group, author=author, kind="question", title="Asked")
    client.force_login(world.users["member"])
    board_url = reverse("neighbourhoods:board", args=[world.group.slug])

    first = client.get(board_url, {"kind": "request"})
    assert len(first.context["page"].object_list) == 20
    html = first.content.decode()
    assert "Asked" not in html
    assert "Ladder to lend" not in html
    assert "kind=request&amp;page=2" in html
    second = client.get(board_url, {"kind": "request", "page": 2})
    assert len(second.context["page"].object_list) == 4

    everything = client.get(board_url)
    assert everything.context["page"].paginator.count == 28
    assert client.get(board_url, {"kind": "spam"}).context["page"].paginator.count == 28
    assert client.get(board_url, {"page": "999"}).status_code == 200
    assert client.get(board_url, {"page": "abc"}).status_code == 200


def test_fulfilling_a_notice_is_refused(client, world):
    Post.objects.filter(pk=world.post.pk).update(kind="notice")
    client.force_login(world.users["author"])
    response = client.post(reverse("neighbourhoods:post-fulfil", args=[world.group.slug, world.post.pk]))
    assert response.status_code == 403  # the page never offers it, so the view refuses outright
    world.refresh()
    assert world.post.fulfilled_at is None


def test_the_author_can_reopen_a_fulfilled_offer(client, world):
    Post.objects.filter(pk=world.post.pk).update(fulfilled_at=timezone.now())
    client.force_login(world.users["author"])
    client.post(reverse("neighbourhoods:post-fulfil", args=[world.group.slug, world.post.pk]), {"fulfilled": "no"})
    world.refresh()
    assert world.post.fulfilled_at is None


# --- Query budgets ----------------------------------------------------------------------------------------------------


def _bulk_posts(world: World, count: int) -> None:
    authors = [world.users["author"], world.users["member"], world.users["organiser"]]
    now = timezone.now()
    Post.objects.bulk_create(
        Post(
            group=world.group,
            author=authors[n % 3],
            kind="notice",
            title=f"Post {n}",
            body="Hello",
            body_html="<p>Hello</p>",
            created_at=now - timedelta(minutes=n),
            edited_at=now if n % 2 else None,
            hidden_at=now if n % 7 == 0 else None,
        )
        for n in range(count)
    )
    Thanks.objects.bulk_create(
        Thanks(post=post, user=world.users["unverified"]) for post in Post.objects.filter(group=world.group)[:50]
    )


def _bulk_comments(world: World, count: int) -> None:
    authors = [world.users["author"], world.users["member"], world.users["organiser"], world.users["unverified"]]
    now = timezone.now()
    Comment.objects.bulk_create(
        Comment(
            post=world.post,
            author=authors[n % 4],
            body=f"Comment {n}",
            body_html=f"<p>Comment {n}</p>",
            edited_at=now if n % 3 else None,
            hidden_at=now if n % 5 == 0 else None,
        )
        for n in range(count)
    )


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    return len(captured)


@pytest.mark.parametrize("role", ["visitor", "member", "organiser"])
def test_the_board_runs_the_same_queries_for_5_or_500_posts(client, role, django_assert_max_num_queries):
    counts = []
    for size in (5, 500):
        world = make_world("public")
        _bulk_posts(world, size)
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        url = reverse("neighbourhoods:board", args=[world.group.slug])
        with django_assert_max_num_queries(6):
            counts.append(_queries(client, url))
        with django_assert_max_num_queries(6):
            counts.append(_queries(client, f"{url}?kind=notice&page=2"))
    assert counts[0] == counts[2]
    assert counts[1] == counts[3]


@pytest.mark.parametrize("role", ["visitor", "member", "organiser"])
def test_a_post_page_runs_the_same_queries_for_5_or_500_comments(client, role, django_assert_max_num_queries):
    counts = []
    for size in (5, 500):
        world = make_world("public")
        _bulk_comments(world, size)
        Thanks.objects.create(post=world.post, user=world.users["member"])
        client.logout()
        if world.users[role] is not None:
            client.force_login(world.users[role])
        with django_assert_max_num_queries(6):
            counts.append(_queries(client, world.post.get_absolute_url()))
    assert counts[0] == counts[1]


def test_the_board_and_a_post_page_leave_out_someone_the_viewer_blocked(client):
    from moderation.services import block

    group = GroupFactory()
    viewer, author, other = (MembershipFactory(group=group).user for _ in range(3))
    PostFactory(group=group, author=author, title="Trampoline for sale")
    open_post = PostFactory(group=group, author=other, title="Street party plans")
    CommentFactory(post=open_post, author=author, body="I can bring a barbecue")
    block(blocker=viewer, blocked=author)
    client.force_login(viewer)
    board = client.get(reverse("neighbourhoods:board", args=[group.slug])).content.decode()
    assert "Street party plans" in board
    assert "Trampoline for sale" not in board
    page = client.get(open_post.get_absolute_url()).content.decode()
    assert "I can bring a barbecue" not in page
    client.force_login(other)
    assert "Trampoline for sale" in client.get(reverse("neighbourhoods:board", args=[group.slug])).content.decode()
