"""Blocks and notifications: nobody hears about what someone they are kept apart from does, whoever made the block,
whether the block came before the news (nothing is recorded) or after it (the bell, the immediate email and the
digest all leave it out). Lifting a block lets news through again from then on."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from core.exceptions import DomainError
from initiatives.services import asks as ask_services
from initiatives.services import initiatives as initiative_services
from initiatives.services import volunteering as volunteer_services
from moderation import services as moderation
from neighbourhoods import services
from neighbourhoods.services import events as event_services
from notifications import delivery, digests
from notifications import services as notifications
from notifications.models import Category, DigestDelivery, Notification
from tests.factories import (
    AskFactory,
    CommentFactory,
    EventFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    PostFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db


def person(name: str):
    return UserFactory(profile__display_name=name)


class Street:
    """A group with Sam (who acts), Gwen (who blocks or is blocked) and Olwen, who organises and hears everything."""

    def __init__(self):
        self.group = GroupFactory(name="Moira Terrace")
        self.olwen = MembershipFactory(group=self.group, user=person("Olwen"), role="organiser").user
        self.sam = MembershipFactory(group=self.group, user=person("Sam")).user
        self.gwen = MembershipFactory(group=self.group, user=person("Gwen")).user


def recipients(event: str) -> set[int]:
    return set(Notification.objects.filter(event=event).values_list("recipient_id", flat=True))


def ids(*users) -> set[int]:
    return {u.pk for u in users}


# Each makes Sam do something Gwen and Olwen would both hear about, and returns the event name.
def post_created(s: Street) -> str:
    services.create_post(author=s.sam, group=s.group, kind="notice", title="Skip on Saturday", body="Room for more.")
    return "post.created"


def comment_created(s: Street) -> str:
    # Gwen's post, which Olwen has already commented on (written directly: her comment is not under test).
    post = PostFactory(group=s.group, author=s.gwen, title="Ladder?")
    CommentFactory(post=post, author=s.olwen)
    services.add_comment(author=s.sam, post=post, body="I have one")
    return "comment.created"


def post_thanked(s: Street) -> str:
    # Thanks go to the post's author only: Gwen's post, so Olwen is the control through a second post of hers.
    for author in (s.gwen, s.olwen):
        post = services.create_post(author=author, group=s.group, kind="offer", title="Spare compost", body="Free")
        services.thank_post(user=s.sam, post=post)
    return "post.thanked"


def event_created(s: Street) -> str:
    start = timezone.now() + timedelta(days=3)
    event_services.create_event(
        creator=s.sam,
        group=s.group,
        title="Street party",
        starts_at=start,
        ends_at=start + timedelta(hours=3),
        place="The green",
    )
    return "event.created"


def _garden(s: Street):
    initiative = InitiativeFactory(group=s.group, title="Plot garden", status="active")
    InitiativeRoleFactory(initiative=initiative, user=s.olwen, role="lead")
    InitiativeRoleFactory(initiative=initiative, user=s.gwen, role="co_organiser")
    return initiative


def volunteer_signed_up(s: Street) -> str:
    volunteer_services.sign_up(user=s.sam, role=VolunteerRoleFactory(initiative=_garden(s), title="Digger"))
    return "initiative.volunteer_signed_up"


def pledge_received(s: Street) -> str:
    ask_services.pledge(user=s.sam, ask=AskFactory(initiative=_garden(s), target=20), amount=5)
    return "initiative.pledge_received"


def initiative_proposed(s: Street) -> str:
    initiative_services.propose_initiative(proposer=s.sam, group=s.group, title="Bulb planting", summary="Spring.")
    return "initiative.proposed"


def membership_requested(s: Street) -> str:
    # Sam leaves, and asks to join again, where both Olwen and Gwen now organise and approve who joins.
    services.leave_group(member=s.sam, group=s.group)
    type(s.group).objects.filter(pk=s.group.pk).update(join_policy="approval")
    s.group.memberships.filter(user=s.gwen).update(role="organiser")
    s.group.refresh_from_db()
    services.join_group(user=s.sam, group=s.group)
    return "membership.requested"


EVENTS = [
    post_created,
    comment_created,
    post_thanked,
    event_created,
    volunteer_signed_up,
    pledge_received,
    initiative_proposed,
    membership_requested,
]


@pytest.mark.parametrize("happen", EVENTS, ids=lambda f: f.__name__)
def test_each_event_reaches_everyone_it_is_for_and_names_its_actor(happen):
    s = Street()
    event = happen(s)
    assert recipients(event) == ids(s.olwen, s.gwen)
    assert set(Notification.objects.filter(event=event).values_list("actor_id", flat=True)) == {s.sam.pk}


@pytest.mark.parametrize("who_blocks", ["recipient", "actor"])
@pytest.mark.parametrize("happen", EVENTS, ids=lambda f: f.__name__)
def test_someone_kept_apart_from_the_actor_hears_nothing_of_it(happen, who_blocks):
    s = Street()
    if who_blocks == "recipient":
        moderation.block(blocker=s.gwen, blocked=s.sam)
    else:
        moderation.block(blocker=s.sam, blocked=s.gwen)
    event = happen(s)
    assert recipients(event) == ids(s.olwen)


@pytest.mark.parametrize("who_blocks", ["sender", "recipient"])
def test_no_wave_and_so_no_wave_notification_between_people_kept_apart(who_blocks):
    s = Street()
    blocker, blocked = (s.sam, s.gwen) if who_blocks == "sender" else (s.gwen, s.sam)
    moderation.block(blocker=blocker, blocked=blocked)
    with pytest.raises(DomainError):
        services.send_wave(sender=s.sam, recipient=s.gwen, group=s.group)
    assert not Notification.objects.filter(event="wave.received").exists()


def test_a_wave_and_its_connection_name_their_actors():
    s = Street()
    wave = services.send_wave(sender=s.sam, recipient=s.gwen, group=s.group)
    services.answer_wave(recipient=s.gwen, wave=wave, accept=True)
    assert Notification.objects.get(event="wave.received").actor == s.sam
    assert Notification.objects.get(event="connection.made").actor == s.gwen


def test_what_the_platform_does_by_itself_still_reaches_people_who_blocked_whoever_planned_it():
    s = Street()
    moderation.block(blocker=s.gwen, blocked=s.sam)
    event = EventFactory(group=s.group, created_by=s.sam, starts_at=timezone.now() + timedelta(hours=5))
    services.rsvp(user=s.gwen, event=event, status="going")
    event_services.send_event_reminders()
    reminder = Notification.objects.get(event="event.reminder")
    assert (reminder.recipient, reminder.actor) == (s.gwen, None)


def test_lifting_a_block_lets_new_news_through_and_only_new_news():
    s = Street()
    moderation.block(blocker=s.gwen, blocked=s.sam)
    services.create_post(author=s.sam, group=s.group, kind="notice", title="While blocked", body="x")
    moderation.unblock(blocker=s.gwen, blocked=s.sam)
    services.create_post(author=s.sam, group=s.group, kind="notice", title="After", body="y")
    lines = list(Notification.objects.filter(recipient=s.gwen).values_list("context__title", flat=True))
    assert lines == ["After"]


def test_a_block_the_other_way_still_stands_after_one_is_lifted():
    s = Street()
    moderation.block(blocker=s.gwen, blocked=s.sam)
    moderation.block(blocker=s.sam, blocked=s.gwen)
    moderation.unblock(blocker=s.gwen, blocked=s.sam)
    post_created(s)
    assert recipients("post.created") == ids(s.olwen)


@pytest.mark.parametrize("as_queryset", [False, True])
def test_leaving_out_people_kept_apart_costs_no_extra_query(as_queryset, django_assert_num_queries):
    s = Street()
    moderation.block(blocker=s.gwen, blocked=s.sam)
    people = [s.olwen, s.gwen]
    if as_queryset:
        people = type(s.sam).objects.filter(pk__in=ids(*people))
    # one query for languages (and who is kept apart), one insert, one for who chose an email straight away
    with django_assert_num_queries(3):
        count = notifications.record(
            event="post.created",
            category=Category.POSTS,
            subject=s.group,
            actor=s.sam,
            recipients=people,
            context={"author": "Sam", "group": "Moira Terrace", "title": "Skip"},
        )
    assert count == 1
    assert recipients("post.created") == ids(s.olwen)


# --- A block made after the news was recorded -----------------------------------------------------------------


def bell(client, user) -> str:
    client.force_login(user)
    return client.get(reverse("notifications:list")).content.decode()


@pytest.mark.parametrize("who_blocks", ["recipient", "actor"])
def test_a_later_block_takes_the_news_out_of_the_bell_and_its_count(client, who_blocks):
    s = Street()
    post_created(s)
    services.create_post(author=s.olwen, group=s.group, kind="notice", title="From Olwen", body="z")
    assert notifications.unread_count(s.gwen) == 2  # cached now
    if who_blocks == "recipient":
        moderation.block(blocker=s.gwen, blocked=s.sam)
    else:
        moderation.block(blocker=s.sam, blocked=s.gwen)
    assert notifications.unread_count(s.gwen) == 1
    page = bell(client, s.gwen)
    assert "From Olwen" in page
    assert "Skip on Saturday" not in page
    # Olwen's bell is untouched.
    assert notifications.unread_count(s.olwen) == 1


def test_lifting_the_block_shows_the_older_news_in_the_bell_again(client):
    s = Street()
    post_created(s)
    moderation.block(blocker=s.gwen, blocked=s.sam)
    assert notifications.unread_count(s.gwen) == 0
    moderation.unblock(blocker=s.gwen, blocked=s.sam)
    assert notifications.unread_count(s.gwen) == 1
    assert "Skip on Saturday" in bell(client, s.gwen)


def test_the_bell_keeps_its_queries_with_blocks_about(client, django_assert_max_num_queries):
    s = Street()
    for n in range(30):
        other = MembershipFactory(group=s.group).user
        services.create_post(author=other, group=s.group, kind="notice", title=f"Post {n}", body="x")
        if n % 2:
            moderation.block(blocker=s.gwen, blocked=other)
    client.force_login(s.gwen)
    notifications.unread_count(s.gwen)
    with django_assert_max_num_queries(4):  # session, user, the count for the pages, one page
        response = client.get(reverse("notifications:list"))
    assert sum(len(day.notifications) for day in response.context["days"]) == 15


@pytest.mark.parametrize("who_blocks", ["recipient", "actor"])
def test_a_block_made_before_the_email_goes_keeps_it_from_going(
    who_blocks, django_capture_on_commit_callbacks, mailoutbox
):
    s = Street()
    with django_capture_on_commit_callbacks():
        comment_created(s)  # replies are emailed straight away by default: to Gwen (the post's) and Olwen
    recorded = list(Notification.objects.filter(event="comment.created").values_list("pk", flat=True))
    assert len(recorded) == 2
    blocker, blocked = (s.gwen, s.sam) if who_blocks == "recipient" else (s.sam, s.gwen)
    moderation.block(blocker=blocker, blocked=blocked)
    assert delivery.deliver_notifications(recorded) == 1
    assert [m.to for m in mailoutbox] == [[s.olwen.email]]
    # Dealt with: the sweep will not try Gwen's again, even once the block is lifted.
    assert not Notification.objects.filter(event="comment.created", delivered_at__isnull=True).exists()
    moderation.unblock(blocker=blocker, blocked=blocked)
    assert delivery.deliver_notifications(recorded) == 0
    assert len(mailoutbox) == 1


def _age(event: str) -> None:
    Notification.objects.filter(event=event).update(created_at=timezone.now() - timedelta(days=1))


@pytest.mark.parametrize("who_blocks", ["recipient", "actor"])
def test_a_block_made_before_the_digest_keeps_the_line_out_of_it(who_blocks, mailoutbox):
    s = Street()
    post_created(s)
    services.create_post(author=s.olwen, group=s.group, kind="notice", title="Litter pick", body="Sunday")
    _age("post.created")
    if who_blocks == "recipient":
        moderation.block(blocker=s.gwen, blocked=s.sam)
    else:
        moderation.block(blocker=s.sam, blocked=s.gwen)
    period_start = digests.period_start_for(timezone.now())
    assert digests.send_digests([s.gwen.pk, s.olwen.pk], "weekly", period_start) == 2
    [gwens] = [m for m in mailoutbox if m.to == [s.gwen.email]]
    assert "Litter pick" in gwens.body
    assert "Skip on Saturday" not in gwens.body
    assert "Skip on Saturday" not in gwens.alternatives[0][0]
    # The dropped line is done with: it never turns up in a later digest.
    assert not Notification.objects.filter(recipient=s.gwen, digested_at__isnull=True).exists()


def test_a_digest_with_nothing_left_after_a_block_is_not_sent(mailoutbox):
    s = Street()
    post_created(s)
    _age("post.created")
    moderation.block(blocker=s.gwen, blocked=s.sam)
    period_start = digests.period_start_for(timezone.now())
    assert digests.send_digests([s.gwen.pk, s.olwen.pk], "weekly", period_start) == 1
    assert [m.to for m in mailoutbox] == [[s.olwen.email]]
    assert "Skip on Saturday" in mailoutbox[0].body
    assert not DigestDelivery.objects.filter(user=s.gwen).exists()  # the claim is released
    assert Notification.objects.get(recipient=s.gwen).digested_at is not None


def test_a_notification_whose_actor_has_gone_still_shows(client):
    s = Street()
    post_created(s)
    s.sam.delete()
    notification = Notification.objects.get(recipient=s.gwen)
    assert notification.actor is None
    assert "Skip on Saturday" in bell(client, s.gwen)


def test_someone_going_hears_an_event_was_cancelled_even_if_they_blocked_whoever_cancelled_it():
    s = Street()
    event = EventFactory(group=s.group, created_by=s.sam, starts_at=timezone.now() + timedelta(days=2))
    services.rsvp(user=s.gwen, event=event, status="going")
    moderation.block(blocker=s.gwen, blocked=s.sam)
    event_services.cancel_event(editor=s.sam, event=event)
    notice = Notification.objects.get(event="event.cancelled", recipient=s.gwen)
    assert notice.actor is None
    assert "Sam" not in notice.line


def test_someone_asking_to_join_hears_they_were_let_in_even_if_they_blocked_the_organiser():
    s = Street()
    newcomer = person("Nia")
    pending = MembershipFactory(group=s.group, user=newcomer, status="pending")
    moderation.block(blocker=newcomer, blocked=s.olwen)
    services.approve_membership(organiser=s.olwen, membership=pending)
    approved = Notification.objects.get(event="membership.approved", recipient=newcomer)
    assert approved.actor is None
    assert "Olwen" not in approved.line
