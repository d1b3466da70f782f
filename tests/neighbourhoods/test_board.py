"""The notice board's services and selectors: who may write what, what is stored, and what each viewer reads."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.http import Http404
from django.utils import timezone

from core.exceptions import DomainError
from neighbourhoods.models import Comment, Post, Thanks
from neighbourhoods.selectors import GroupContext
from neighbourhoods.selectors import board as selectors
from neighbourhoods.services import board as services
from tests.factories import CommentFactory, GroupFactory, MembershipFactory, PostFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def group():
    return GroupFactory()


@pytest.fixture
def member(group):
    return MembershipFactory(group=group).user


@pytest.fixture
def organiser(group):
    return MembershipFactory(group=group, role="organiser").user


@pytest.fixture
def post(group, member):
    return services.create_post(author=member, group=group, kind="offer", title="Ladder to lend", body="Ask at 12.")


def context_for(user, group) -> GroupContext:
    membership = group.memberships.filter(user=user).first() if user is not None else None
    return GroupContext(group=group, membership=membership)


# --- Creating posts ------------------------------------------------------------------------------------------------


def test_a_post_is_stored_stripped_with_its_sanitised_html(group, member):
    post = services.create_post(
        author=member, group=group, kind="hello", title="  Hello from number 12  ", body="\n  Hi, I'm **Sam**!  \n"
    )
    post.refresh_from_db()
    assert post.title == "Hello from number 12"
    assert post.body == "Hi, I'm **Sam**!"
    assert "<strong>Sam</strong>" in post.body_html
    assert post.author == member
    assert post.kind == "hello"
    assert post.edited_at is None


def test_raw_html_in_a_body_is_stored_as_text_never_as_markup(group, member):
    post = services.create_post(
        author=member,
        group=group,
        kind="notice",
        title="Hi",
        body='<script>alert("x")</script> <img src=x onerror=alert(1)> [click](javascript:alert(1))',
    )
    assert "<script" not in post.body_html
    assert "<img" not in post.body_html
    assert "javascript:" not in post.body_html
    assert "&lt;script&gt;" in post.body_html


@pytest.mark.parametrize("body", ["", "   ", "\n\t \n"])
def test_an_empty_post_is_refused_and_nothing_is_written(group, member, body):
    with pytest.raises(DomainError, match="cannot be empty"):
        services.create_post(author=member, group=group, kind="notice", title="A title", body=body)
    assert not Post.objects.exists()


def test_an_empty_title_is_refused(group, member):
    with pytest.raises(DomainError, match="title"):
        services.create_post(author=member, group=group, kind="notice", title="   ", body="Something")
    assert not Post.objects.exists()


def test_an_overlong_body_or_an_unknown_kind_is_refused(group, member):
    with pytest.raises(DomainError, match="5000"):
        services.create_post(author=member, group=group, kind="notice", title="Long", body="x" * 5001)
    with pytest.raises(DomainError, match="kind"):
        services.create_post(author=member, group=group, kind="advert", title="Buy", body="Cheap")
    assert not Post.objects.exists()


@pytest.mark.parametrize(
    ("membership", "unverified_can_post", "allowed"),
    [
        ({}, False, True),  # an active, verified member
        ({"role": "organiser"}, False, True),
        ({"verified_at": None}, True, True),  # unverified, and the group lets them post
        ({"verified_at": None}, False, False),  # unverified, and the group does not
        ({"verified_at": None, "role": "organiser"}, False, True),  # organisers always may
        ({"status": "pending", "verified_at": None}, True, False),
        ({"status": "left"}, True, False),
        ({"status": "removed"}, True, False),
        ({"status": "banned"}, True, False),
        (None, True, False),  # not a member at all
    ],
)
def test_who_may_post(membership, unverified_can_post, allowed):
    group = GroupFactory(unverified_can_post=unverified_can_post)
    user = UserFactory() if membership is None else MembershipFactory(group=group, **membership).user
    if allowed:
        services.create_post(author=user, group=group, kind="notice", title="Hi", body="Hello")
        assert Post.objects.filter(group=group, author=user).count() == 1
    else:
        with pytest.raises(DomainError):
            services.create_post(author=user, group=group, kind="notice", title="Hi", body="Hello")
        assert not Post.objects.exists()


def test_an_organiser_of_another_group_cannot_post_here(group):
    elsewhere = MembershipFactory(role="organiser").user
    with pytest.raises(DomainError, match="Only members"):
        services.create_post(author=elsewhere, group=group, kind="notice", title="Hi", body="Hello")


# --- Editing, deleting, hiding and fulfilling posts ----------------------------------------------------------------


def test_the_author_can_edit_their_post_and_it_is_marked_edited(post, member):
    edited = services.edit_post(author=member, post=post, kind="offer", title="Ladder (tall)", body="Now *tall*")
    edited.refresh_from_db()
    assert edited.title == "Ladder (tall)"
    assert "<em>tall</em>" in edited.body_html
    assert edited.edited_at is not None


def test_saving_without_a_change_leaves_no_edited_mark(post, member):
    services.edit_post(author=member, post=post, kind=post.kind, title=f" {post.title} ", body=post.body)
    post.refresh_from_db()
    assert post.edited_at is None


@pytest.mark.parametrize("who", ["another member", "organiser", "organiser elsewhere"])
def test_nobody_else_can_edit_a_post(post, group, who):
    other = {
        "another member": lambda: MembershipFactory(group=group).user,
        "organiser": lambda: MembershipFactory(group=group, role="organiser").user,
        "organiser elsewhere": lambda: MembershipFactory(role="organiser").user,
    }[who]()
    with pytest.raises(DomainError, match="your own"):
        services.edit_post(author=other, post=post, kind="notice", title="Mine now", body="Ha")
    post.refresh_from_db()
    assert post.title == "Ladder to lend"
    assert post.edited_at is None


def test_an_edit_to_an_empty_body_is_refused_and_the_post_kept(post, member):
    with pytest.raises(DomainError, match="cannot be empty"):
        services.edit_post(author=member, post=post, kind="offer", title="New title", body="   ")
    post.refresh_from_db()
    assert (post.title, post.body) == ("Ladder to lend", "Ask at 12.")


def test_a_banned_author_can_no_longer_edit(post, group, member):
    group.memberships.filter(user=member).update(status="banned")
    with pytest.raises(DomainError):
        services.edit_post(author=member, post=post, kind="offer", title="Changed", body="Changed")


def test_a_hidden_post_cannot_be_edited(post, member, organiser):
    services.hide_post(organiser=organiser, post=post)
    with pytest.raises(DomainError, match="hidden"):
        services.edit_post(author=member, post=post, kind="offer", title="Changed", body="Changed")


def test_turning_a_fulfilled_offer_into_a_notice_clears_fulfilled(post, member):
    services.mark_fulfilled(author=member, post=post)
    services.edit_post(author=member, post=post, kind="notice", title=post.title, body=post.body)
    post.refresh_from_db()
    assert post.fulfilled_at is None


def test_the_author_or_an_organiser_can_delete_a_post_with_its_comments_and_thanks(group, post, member, organiser):
    neighbour = MembershipFactory(group=group).user
    services.add_comment(author=neighbour, post=post, body="I'd love to borrow it")
    services.thank_post(user=neighbour, post=post)
    services.delete_post(user=member, post=post)
    assert not Post.objects.exists()
    assert not Comment.objects.exists()
    assert not Thanks.objects.exists()

    second = PostFactory(group=group, author=member)
    services.delete_post(user=organiser, post=second)
    assert not Post.objects.exists()


@pytest.mark.parametrize("who", ["another member", "organiser elsewhere"])
def test_others_cannot_delete_a_post(post, group, who):
    other = MembershipFactory(group=group).user if who == "another member" else MembershipFactory(role="organiser").user
    with pytest.raises(DomainError, match="your own"):
        services.delete_post(user=other, post=post)
    assert Post.objects.filter(pk=post.pk).exists()


def test_an_organiser_hides_and_unhides_a_post_and_who_did_it_is_recorded(post, organiser):
    services.hide_post(organiser=organiser, post=post)
    post.refresh_from_db()
    assert post.hidden_by == organiser
    assert post.hidden_at is not None
    with pytest.raises(DomainError, match="already hidden"):
        services.hide_post(organiser=organiser, post=post)

    services.unhide_post(organiser=organiser, post=post)
    post.refresh_from_db()
    assert post.hidden_at is None
    assert post.hidden_by is None
    with pytest.raises(DomainError, match="not hidden"):
        services.unhide_post(organiser=organiser, post=post)


@pytest.mark.parametrize("who", ["author", "another member", "organiser elsewhere"])
def test_only_the_groups_organisers_can_hide(post, group, member, who):
    other = {
        "author": lambda: member,
        "another member": lambda: MembershipFactory(group=group).user,
        "organiser elsewhere": lambda: MembershipFactory(role="organiser").user,
    }[who]()
    with pytest.raises(DomainError, match="organisers"):
        services.hide_post(organiser=other, post=post)
    post.refresh_from_db()
    assert post.hidden_at is None


def test_only_organisers_can_unhide(post, group, organiser):
    services.hide_post(organiser=organiser, post=post)
    with pytest.raises(DomainError, match="organisers"):
        services.unhide_post(organiser=post.author, post=post)
    post.refresh_from_db()
    assert post.hidden_at is not None


@pytest.mark.parametrize("kind", ["offer", "request"])
def test_the_author_marks_an_offer_or_request_fulfilled_and_can_reopen_it(group, member, kind):
    post = services.create_post(author=member, group=group, kind=kind, title="Spare bike", body="Free")
    services.mark_fulfilled(author=member, post=post)
    post.refresh_from_db()
    assert post.fulfilled_at is not None
    with pytest.raises(DomainError, match="already"):
        services.mark_fulfilled(author=member, post=post)
    services.mark_fulfilled(author=member, post=post, fulfilled=False)
    post.refresh_from_db()
    assert post.fulfilled_at is None


@pytest.mark.parametrize("kind", ["hello", "notice", "question", "recommendation", "lost_found"])
def test_other_kinds_cannot_be_fulfilled(group, member, kind):
    post = services.create_post(author=member, group=group, kind=kind, title="Hi", body="Hello")
    with pytest.raises(DomainError, match="offers and requests"):
        services.mark_fulfilled(author=member, post=post)
    post.refresh_from_db()
    assert post.fulfilled_at is None


def test_only_the_author_can_mark_fulfilled(post, organiser):
    with pytest.raises(DomainError, match="person who posted"):
        services.mark_fulfilled(author=organiser, post=post)
    post.refresh_from_db()
    assert post.fulfilled_at is None


# --- Comments ------------------------------------------------------------------------------------------------------


def test_a_member_comments_and_the_body_is_sanitised(post, group):
    neighbour = MembershipFactory(group=group).user
    comment = services.add_comment(author=neighbour, post=post, body="  <b>Yes</b> **please**  ")
    assert comment.body == "<b>Yes</b> **please**"
    assert "<b>" not in comment.body_html
    assert "<strong>please</strong>" in comment.body_html


def test_an_empty_comment_is_refused(post, member):
    with pytest.raises(DomainError, match="cannot be empty"):
        services.add_comment(author=member, post=post, body=" \n ")
    assert not Comment.objects.exists()


@pytest.mark.parametrize("membership", [None, {"status": "pending"}, {"status": "banned"}, {"verified_at": None}])
def test_who_may_not_comment(membership):
    group = GroupFactory(unverified_can_post=False)
    post = PostFactory(group=group, author=MembershipFactory(group=group).user)
    user = UserFactory() if membership is None else MembershipFactory(group=group, **membership).user
    with pytest.raises(DomainError):
        services.add_comment(author=user, post=post, body="Hello")
    assert not Comment.objects.exists()


def test_nobody_can_comment_on_a_hidden_post(post, member, organiser):
    services.hide_post(organiser=organiser, post=post)
    for person in (member, organiser):
        with pytest.raises(DomainError, match="hidden"):
            services.add_comment(author=person, post=post, body="Hello")
    assert not Comment.objects.exists()


def test_the_author_edits_a_comment_and_it_is_marked_edited(post, member):
    comment = services.add_comment(author=member, post=post, body="Frst")
    services.edit_comment(author=member, comment=comment, body="First *fixed*")
    comment.refresh_from_db()
    assert comment.body == "First *fixed*"
    assert "<em>fixed</em>" in comment.body_html
    assert comment.edited_at is not None


def test_others_cannot_edit_a_comment_and_empty_edits_are_refused(post, member, organiser):
    comment = services.add_comment(author=member, post=post, body="Mine")
    with pytest.raises(DomainError, match="your own"):
        services.edit_comment(author=organiser, comment=comment, body="Theirs")
    with pytest.raises(DomainError, match="cannot be empty"):
        services.edit_comment(author=member, comment=comment, body="  ")
    comment.refresh_from_db()
    assert comment.body == "Mine"
    assert comment.edited_at is None


def test_a_hidden_comment_cannot_be_edited(post, member, organiser):
    comment = services.add_comment(author=member, post=post, body="Mine")
    services.hide_comment(organiser=organiser, comment=comment)
    with pytest.raises(DomainError, match="hidden"):
        services.edit_comment(author=member, comment=comment, body="Changed")


def test_the_author_or_an_organiser_can_delete_a_comment_but_no_one_else(post, group, member, organiser):
    neighbour = MembershipFactory(group=group).user
    elsewhere = MembershipFactory(role="organiser").user
    first = services.add_comment(author=neighbour, post=post, body="One")
    second = services.add_comment(author=neighbour, post=post, body="Two")
    for other in (member, elsewhere):
        with pytest.raises(DomainError, match="your own"):
            services.delete_comment(user=other, comment=first)
    services.delete_comment(user=neighbour, comment=first)
    services.delete_comment(user=organiser, comment=second)
    assert not Comment.objects.exists()


def test_organisers_hide_and_unhide_comments(post, member, organiser):
    comment = services.add_comment(author=member, post=post, body="Rude")
    with pytest.raises(DomainError, match="organisers"):
        services.hide_comment(organiser=member, comment=comment)
    services.hide_comment(organiser=organiser, comment=comment)
    comment.refresh_from_db()
    assert comment.hidden_at is not None
    with pytest.raises(DomainError, match="already hidden"):
        services.hide_comment(organiser=organiser, comment=comment)
    services.unhide_comment(organiser=organiser, comment=comment)
    comment.refresh_from_db()
    assert comment.hidden_at is None


def test_an_organiser_of_another_group_cannot_hide_comments(post, member):
    comment = services.add_comment(author=member, post=post, body="Fine")
    with pytest.raises(DomainError, match="organisers"):
        services.hide_comment(organiser=MembershipFactory(role="organiser").user, comment=comment)


# --- Thanks --------------------------------------------------------------------------------------------------------


def test_a_member_says_thanks_once(post, group):
    neighbour = MembershipFactory(group=group).user
    services.thank_post(user=neighbour, post=post)
    with pytest.raises(DomainError, match="already said thanks"):
        services.thank_post(user=neighbour, post=post)
    assert Thanks.objects.filter(post=post, user=neighbour).count() == 1


def test_you_cannot_thank_yourself(post, member):
    with pytest.raises(DomainError, match="your own"):
        services.thank_post(user=member, post=post)
    assert not Thanks.objects.exists()


@pytest.mark.parametrize("membership", [None, {"status": "pending"}, {"status": "banned"}, {"status": "left"}])
def test_only_members_can_say_thanks(post, group, membership):
    user = UserFactory() if membership is None else MembershipFactory(group=group, **membership).user
    with pytest.raises(DomainError, match="Only members"):
        services.thank_post(user=user, post=post)
    assert not Thanks.objects.exists()


def test_a_hidden_post_cannot_be_thanked(post, group, organiser):
    services.hide_post(organiser=organiser, post=post)
    with pytest.raises(DomainError, match="hidden"):
        services.thank_post(user=MembershipFactory(group=group).user, post=post)


@pytest.mark.django_db(transaction=True)
def test_a_double_click_on_thanks_records_one_thanks_and_no_error_page():
    group = GroupFactory()
    post = PostFactory(group=group, author=MembershipFactory(group=group).user)
    neighbour = MembershipFactory(group=group).user
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def click():
        try:
            barrier.wait(timeout=5)
            services.thank_post(user=neighbour, post=post)
            outcomes.append("thanked")
        except DomainError:
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=click) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert sorted(outcomes) == ["refused", "thanked"]
    assert Thanks.objects.filter(post=post, user=neighbour).count() == 1


# --- Selectors -----------------------------------------------------------------------------------------------------


def test_the_board_lists_posts_newest_first_with_counts_and_the_viewers_thanks(group, member, organiser):
    older = PostFactory(group=group, author=member, title="Older")
    newer = PostFactory(group=group, author=member, title="Newer")
    Post.objects.filter(pk=older.pk).update(created_at=timezone.now() - timedelta(days=1))
    neighbour = MembershipFactory(group=group).user
    CommentFactory.create_batch(2, post=older, author=neighbour)
    CommentFactory(post=older, author=neighbour, hidden_at=timezone.now())
    Thanks.objects.create(post=older, user=neighbour)
    Thanks.objects.create(post=older, user=organiser)

    posts = list(selectors.list_board_posts(context=context_for(neighbour, group), viewer=neighbour))
    assert [p.title for p in posts] == ["Newer", "Older"]
    by_title = {p.title: p for p in posts}
    assert (by_title["Older"].comment_count, by_title["Older"].thanks_count) == (2, 2)
    assert by_title["Older"].has_thanked is True
    assert (by_title["Newer"].comment_count, by_title["Newer"].thanks_count, by_title["Newer"].has_thanked) == (
        0,
        0,
        False,
    )
    assert newer.pk == posts[0].pk


def test_hidden_posts_are_listed_for_organisers_only(group, member, organiser):
    PostFactory(group=group, author=member, title="Fine")
    PostFactory(group=group, author=member, title="Rude", hidden_at=timezone.now(), hidden_by=organiser)
    as_member = selectors.list_board_posts(context=context_for(member, group), viewer=member)
    as_organiser = selectors.list_board_posts(context=context_for(organiser, group), viewer=organiser)
    as_visitor = selectors.list_board_posts(context=context_for(None, group), viewer=None)
    assert [p.title for p in as_member] == ["Fine"]
    assert [p.title for p in as_visitor] == ["Fine"]
    assert sorted(p.title for p in as_organiser) == ["Fine", "Rude"]


def test_the_board_filters_by_kind_and_ignores_an_unknown_kind(group, member):
    PostFactory(group=group, author=member, kind="offer", title="Offer")
    PostFactory(group=group, author=member, kind="request", title="Request")
    context = context_for(member, group)
    assert [p.title for p in selectors.list_board_posts(context=context, viewer=member, kind="offer")] == ["Offer"]
    assert len(selectors.list_board_posts(context=context, viewer=member, kind="nonsense")) == 2


def test_the_board_shows_only_this_groups_posts(group, member):
    PostFactory(group=group, author=member, title="Ours")
    PostFactory(title="Theirs")
    assert [p.title for p in selectors.list_board_posts(context=context_for(member, group), viewer=member)] == ["Ours"]


def test_a_hidden_post_is_a_404_except_to_organisers(group, member, organiser):
    post = PostFactory(group=group, author=member, hidden_at=timezone.now(), hidden_by=organiser)
    with pytest.raises(Http404):
        selectors.get_post(context=context_for(member, group), viewer=member, post_id=post.pk)
    found = selectors.get_post(context=context_for(organiser, group), viewer=organiser, post_id=post.pk)
    assert found.hidden_by == organiser


def test_another_groups_post_is_a_404(group, member):
    elsewhere = PostFactory()
    with pytest.raises(Http404):
        selectors.get_post(context=context_for(member, group), viewer=member, post_id=elsewhere.pk)


def test_comments_hidden_from_members_are_shown_to_organisers(post, group, member, organiser):
    CommentFactory(post=post, author=member, body="Kind")
    CommentFactory(post=post, author=member, body="Rude", hidden_at=timezone.now())
    shown = selectors.list_comments(context=context_for(member, group), post=post)
    assert [c.body for c in shown] == ["Kind"]
    for_organisers = selectors.list_comments(context=context_for(organiser, group), post=post)
    assert [(c.body, c.hidden_at is not None) for c in for_organisers] == [("Kind", False), ("Rude", True)]
    hidden = for_organisers[1]
    with pytest.raises(Http404):
        selectors.get_comment(context=context_for(member, group), post=post, comment_id=hidden.pk)
    assert selectors.get_comment(context=context_for(organiser, group), post=post, comment_id=hidden.pk) == hidden


def test_listing_a_board_page_is_one_query_however_many_posts(group, member, django_assert_num_queries):
    authors = [MembershipFactory(group=group).user for _ in range(3)]
    for n in range(30):
        post = PostFactory(group=group, author=authors[n % 3])
        CommentFactory(post=post, author=authors[(n + 1) % 3])
    context = context_for(member, group)
    with django_assert_num_queries(1):
        posts = list(selectors.list_board_posts(context=context, viewer=member)[:20])
        names = [p.author.profile.display_name for p in posts]
        counts = [(p.comment_count, p.thanks_count, p.has_thanked) for p in posts]
    assert len(names) == 20
    assert counts[0] == (1, 0, False)


# --- People kept apart by a block ----------------------------------------------------------------------------------


@pytest.mark.parametrize("who_blocked", ["viewer", "author"])
def test_posts_and_comments_by_someone_kept_apart_are_left_out_for_that_viewer_only(
    group, member, organiser, post, who_blocked
):
    from moderation.services import block

    viewer, bystander = MembershipFactory(group=group).user, MembershipFactory(group=group).user
    mine = services.create_post(author=viewer, group=group, kind="notice", title="Bins on Tuesday", body="Yes.")
    CommentFactory(post=mine, author=member, body="Thanks!")
    CommentFactory(post=mine, author=bystander, body="Noted.")
    if who_blocked == "viewer":
        block(blocker=viewer, blocked=member)
    else:
        block(blocker=member, blocked=viewer)

    seen = list(selectors.list_board_posts(context=context_for(viewer, group), viewer=viewer))
    assert [p.pk for p in seen] == [mine.pk]  # the ladder post by `member` is gone
    assert seen[0].comment_count == 1
    with pytest.raises(Http404):
        selectors.get_post(context=context_for(viewer, group), viewer=viewer, post_id=post.pk)
    comments = selectors.list_comments(context=context_for(viewer, group), post=mine, viewer=viewer)
    assert [c.author_id for c in comments] == [bystander.pk]

    # Nobody else's board changes; organisers, who moderate it, see everything.
    for other in (bystander, organiser):
        others = list(selectors.list_board_posts(context=context_for(other, group), viewer=other))
        assert {p.pk for p in others} == {post.pk, mine.pk}
        assert next(p for p in others if p.pk == mine.pk).comment_count == 2
        shown = selectors.list_comments(context=context_for(other, group), post=mine, viewer=other)
        assert len(shown) == 2
