"""Every event that notifies: who hears of it and who does not (the person acting, people who left, were removed or
banned, people waiting to join, non-members), its category, and its line in each recipient's language."""

from datetime import timedelta

import pytest
from django.utils import formats, timezone, translation
from django.utils.translation import trans_real

from accounts.models import User
from initiatives.models import Decision
from initiatives.services import asks as ask_services
from initiatives.services import council as council_services
from initiatives.services import decisions as decision_services
from initiatives.services import initiatives as initiative_services
from initiatives.services import support as support_services
from initiatives.services import updates as update_services
from initiatives.services import volunteering as volunteer_services
from neighbourhoods import services
from neighbourhoods.models import RSVP, Connection, Event, Membership, Wave
from neighbourhoods.services import events as event_services
from notifications import services as notifications
from notifications.models import Category, Notification
from tests.factories import (
    AskFactory,
    CouncilFactory,
    CouncilMembershipFactory,
    CouncilOfferFactory,
    EventFactory,
    GroupFactory,
    InitiativeFactory,
    InitiativeRoleFactory,
    MembershipFactory,
    NeighbourhoodFactory,
    RSVPFactory,
    UserFactory,
    VolunteerRoleFactory,
)

pytestmark = pytest.mark.django_db

# Welsh for the lines these tests read in Welsh. The catalogue may not have them yet (translators add them), so the
# tests put them in for their own duration: what is checked is that each recipient's line is rendered in their own
# language, with dates and times in it formatted for that language too.
WELSH = {
    "%(name)s asked to join %(group)s.": "Mae %(name)s wedi gofyn i ymuno â %(group)s.",
    "Your request to join %(group)s was approved. Welcome!": "Cafodd eich cais i ymuno â %(group)s ei gymeradwyo. "
    "Croeso!",
    "%(author)s posted in %(group)s: “%(title)s”": "Postiodd %(author)s yn %(group)s: “%(title)s”",
    "%(author)s commented on “%(title)s”: “%(excerpt)s”": "Rhoddodd %(author)s sylw ar “%(title)s”: “%(excerpt)s”",
    "%(name)s said thanks for your post “%(title)s”.": "Diolchodd %(name)s am eich neges “%(title)s”.",
    "%(name)s waved to you in %(group)s: “%(message)s”": "Chwifiodd %(name)s atoch chi yn %(group)s: “%(message)s”",
    "%(name)s waved back: you are now connected as neighbours.": "Chwifiodd %(name)s yn ôl: rydych chi nawr wedi "
    "cysylltu fel cymdogion.",
    "%(name)s planned an event in %(group)s: “%(title)s” on %(when)s.": "Mae %(name)s wedi trefnu digwyddiad yn "
    "%(group)s: “%(title)s” ar %(when)s.",
    "“%(title)s” in %(group)s has changed: it is now on %(when)s at %(place)s.": "Mae “%(title)s” yn %(group)s wedi "
    "newid: mae nawr ar %(when)s yn %(place)s.",
    "“%(title)s” in %(group)s on %(when)s has been cancelled.": "Mae “%(title)s” yn %(group)s ar %(when)s wedi\u2019i "
    "ganslo.",
    "Coming up: “%(title)s” on %(when)s at %(place)s.": "Ar y gweill: “%(title)s” ar %(when)s yn %(place)s.",
    "A place came free: you are now going to “%(title)s” on %(when)s.": "Daeth lle yn rhydd: rydych chi nawr yn mynd "
    "i “%(title)s” ar %(when)s.",
    "%(name)s proposed a new initiative in %(where)s: “%(title)s”": "Mae %(name)s wedi cynnig menter newydd yn "
    "%(where)s: “%(title)s”",
    "%(name)s posted an update on %(initiative)s: “%(title)s”": "Postiodd %(name)s ddiweddariad ar %(initiative)s: "
    "“%(title)s”",
    "%(name)s signed up to help as “%(role)s” on %(initiative)s.": "Mae %(name)s wedi cofrestru i helpu fel "
    "“%(role)s” ar %(initiative)s.",
    "%(name)s pledged %(amount)s towards “%(ask)s” on %(initiative)s.": "Addawodd %(name)s %(amount)s tuag at "
    "“%(ask)s” ar %(initiative)s.",
    "%(by)s asked everyone on %(initiative)s to decide: “%(question)s”": "Mae %(by)s wedi gofyn i bawb ar "
    "%(initiative)s benderfynu: “%(question)s”",
    "Voting closes on %(when)s: “%(question)s” (%(initiative)s). You have not voted yet.": "Mae\u2019r "
    "pleidleisio\u2019n cau ar %(when)s: “%(question)s” (%(initiative)s). Nid ydych chi wedi pleidleisio eto.",
    "Decision closed on %(initiative)s: “%(question)s”. %(outcome)s": "Penderfyniad wedi cau ar %(initiative)s: "
    "“%(question)s”. %(outcome)s",
    "%(council)s approved “%(offer)s” for %(initiative)s.": "Cymeradwyodd %(council)s “%(offer)s” ar gyfer "
    "%(initiative)s.",
    "%(council)s said no to “%(offer)s” for %(initiative)s.": "Dywedodd %(council)s na i “%(offer)s” ar gyfer "
    "%(initiative)s.",
    "There is something new for you on Stronger Streets.": "Mae rhywbeth newydd i chi ar Stronger Streets.",
}


@pytest.fixture(autouse=True)
def welsh(monkeypatch):
    catalogue = trans_real.translation("cy")
    original = catalogue.gettext
    monkeypatch.setattr(catalogue, "gettext", lambda message: WELSH.get(message) or original(message))


def when(moment, language: str = "en-gb") -> str:
    with translation.override(language):
        return formats.date_format(timezone.localtime(moment), "l j F, H:i")


def person(name: str, language: str = "en-gb"):
    return UserFactory(profile__display_name=name, profile__language=language)


class Street:
    """A street group with an organiser, two members (Gwen reads Welsh), and people who must hear nothing of it:
    one who left, one removed, one banned, one waiting to join, and a neighbour in another group."""

    def __init__(self, *, visibility: str = "public", join_policy: str = "open"):
        self.group = GroupFactory(name="Moira Terrace", visibility=visibility, join_policy=join_policy)
        self.organiser = MembershipFactory(group=self.group, user=person("Olwen"), role="organiser").user
        self.sam = MembershipFactory(group=self.group, user=person("Sam")).user
        self.gwen = MembershipFactory(group=self.group, user=person("Gwen", "cy")).user
        self.left = MembershipFactory(group=self.group, user=person("Lee"), status="left").user
        self.removed = MembershipFactory(group=self.group, user=person("Rhys"), status="removed").user
        self.banned = MembershipFactory(group=self.group, user=person("Bo"), status="banned").user
        self.pending = MembershipFactory(
            group=self.group, user=person("Pat"), status="pending", joined_at=None, verified_at=None
        ).user
        self.outsider = MembershipFactory(user=person("Ola")).user

    @property
    def members(self) -> set[int]:
        return ids(self.organiser, self.sam, self.gwen)

    @property
    def nobody_else(self) -> set[int]:
        return ids(self.left, self.removed, self.banned, self.pending, self.outsider)


def ids(*users) -> set[int]:
    return {user.pk for user in users}


def recipients(event: str, subject=None) -> set[int]:
    rows = Notification.objects.filter(event=event)
    if subject is not None:
        rows = rows.filter(dedupe_key__startswith=f"{event}:{subject.pk}")
    return set(rows.values_list("recipient_id", flat=True))


def one(event: str, user) -> Notification:
    return Notification.objects.get(event=event, recipient=user)


def assert_nobody_else(street: Street, event: str) -> None:
    assert not recipients(event) & street.nobody_else


# --- Recording -----------------------------------------------------------------------------------------------------


def test_each_line_is_rendered_once_per_language_and_languages_come_in_one_query(
    monkeypatch, django_assert_num_queries
):
    english = [person(f"Neighbour {n}") for n in range(6)]
    welsh = [person(f"Cymydog {n}", "cy") for n in range(4)]
    group = GroupFactory(name="Clifton Street")
    rendered = []
    real = notifications.render_line

    def counting(**kwargs):
        rendered.append(kwargs["language"])
        return real(**kwargs)

    monkeypatch.setattr(notifications, "render_line", counting)
    # one query for everyone's language, one insert, one for who chose an email straight away
    with django_assert_num_queries(3):
        count = notifications.record(
            event="post.created",
            category=Category.POSTS,
            subject=group,
            recipients=[*english, *welsh, english[0]],
            context={"author": "Sam", "group": "Clifton Street", "title": "Skip on Saturday"},
            url="/groups/clifton-street/",
        )
    assert count == 10
    assert sorted(rendered) == ["cy", "en-gb"]
    lines = dict(Notification.objects.values_list("recipient_id", "line"))
    assert {lines[u.pk] for u in english} == {"Sam posted in Clifton Street: “Skip on Saturday”"}
    assert {lines[u.pk] for u in welsh} == {"Postiodd Sam yn Clifton Street: “Skip on Saturday”"}


def test_recording_from_a_queryset_is_one_query_too(django_assert_num_queries):
    group = GroupFactory()
    MembershipFactory.create_batch(5, group=group)
    people = Membership.objects.filter(group=group).values("user_id")
    with django_assert_num_queries(3):
        assert (
            notifications.record(
                event="post.created",
                category=Category.POSTS,
                subject=group,
                recipients=User.objects.filter(pk__in=people).only("pk").distinct(),
                context={"author": "Sam", "group": "G", "title": "T"},
            )
            == 5
        )


def test_recording_nobody_writes_nothing(django_assert_num_queries):
    group = GroupFactory()
    with django_assert_num_queries(0):
        assert notifications.record(event="post.created", category=Category.POSTS, subject=group, recipients=[]) == 0


def test_lines_are_plain_text_never_escaped_for_html():
    group = GroupFactory()
    sam = person("Sam")
    notifications.record(
        event="post.created",
        category=Category.POSTS,
        subject=group,
        recipients=[sam],
        context={"author": "Jo & Al", "group": "<Moira>", "title": 'Fish & chips "Friday"'},
    )
    assert one("post.created", sam).line == 'Jo & Al posted in <Moira>: “Fish & chips "Friday"”'


def test_the_same_thing_recorded_twice_is_one_notification():
    group = GroupFactory()
    user = person("Sam")
    for _ in range(2):
        notifications.record(
            event="post.created", category=Category.POSTS, subject=group, recipients=[user], context={"title": "x"}
        )
    assert Notification.objects.filter(recipient=user).count() == 1


@pytest.mark.parametrize("event", ["something.unheard_of", "../../base", "post.created/../x", "Post.Created"])
def test_an_event_without_a_line_template_gets_a_generic_line(event):
    group = GroupFactory()
    sam, gwen = person("Sam"), person("Gwen", "cy")
    notifications.record(event=event, category=Category.POSTS, subject=group, recipients=[sam, gwen])
    assert one(event, sam).line == "There is something new for you on Stronger Streets."
    assert one(event, gwen).line == "Mae rhywbeth newydd i chi ar Stronger Streets."


def test_the_snapshot_keeps_dates_as_text_and_lines_stay_within_their_column():
    group = GroupFactory()
    sam = person("Sam")
    moment = timezone.now()
    notifications.record(
        event="post.created",
        category=Category.POSTS,
        subject=group,
        recipients=[sam],
        context={"author": "Sam", "group": "G", "title": "x" * 800, "starts_at": moment},
    )
    notification = one("post.created", sam)
    assert notification.context["starts_at"].startswith(moment.strftime("%Y-%m-%dT%H:%M"))
    assert len(notification.line) == 500
    assert notification.line.endswith("…")


# --- Joining ---------------------------------------------------------------------------------------------------------


def test_a_request_to_join_is_for_the_groups_organisers():
    s = Street(join_policy="approval")
    welsh_organiser = MembershipFactory(group=s.group, user=person("Dafydd", "cy"), role="organiser").user
    former = MembershipFactory(group=s.group, user=person("Fran"), role="organiser", status="left").user
    newcomer = person("Nia")
    services.join_group(user=newcomer, group=s.group)
    assert recipients("membership.requested") == ids(s.organiser, welsh_organiser)
    assert former.pk not in recipients("membership.requested")
    notification = one("membership.requested", s.organiser)
    assert notification.category == Category.MEMBERSHIP
    assert notification.line == "Nia asked to join Moira Terrace."
    assert notification.url == f"/groups/{s.group.slug}/members/"
    assert one("membership.requested", welsh_organiser).line == "Mae Nia wedi gofyn i ymuno â Moira Terrace."


def test_asking_again_after_withdrawing_tells_the_organisers_again():
    s = Street(join_policy="approval")
    newcomer = person("Nia")
    services.join_group(user=newcomer, group=s.group)
    services.leave_group(member=newcomer, group=s.group)
    services.join_group(user=newcomer, group=s.group)
    assert Notification.objects.filter(event="membership.requested", recipient=s.organiser).count() == 2


def test_joining_an_open_group_asks_nobody():
    s = Street()
    services.join_group(user=person("Nia"), group=s.group)
    assert not Notification.objects.filter(event="membership.requested").exists()


def test_the_person_let_in_hears_that_they_were_approved():
    s = Street(join_policy="approval")
    newcomer = person("Nia", "cy")
    membership = services.join_group(user=newcomer, group=s.group)
    services.approve_membership(organiser=s.organiser, membership=membership)
    assert recipients("membership.approved") == ids(newcomer)
    notification = one("membership.approved", newcomer)
    assert notification.category == Category.MEMBERSHIP
    assert notification.line == "Cafodd eich cais i ymuno â Moira Terrace ei gymeradwyo. Croeso!"
    assert notification.url == s.group.get_absolute_url()


# --- The notice board ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("visibility", ["public", "members"])
def test_a_new_post_is_for_every_other_active_member(visibility):
    s = Street(visibility=visibility)
    post = services.create_post(
        author=s.sam, group=s.group, kind="notice", title="Bins on Thursday", body="Bins go out\n\n**Thursday**."
    )
    assert recipients("post.created") == ids(s.organiser, s.gwen)
    assert_nobody_else(s, "post.created")
    notification = one("post.created", s.organiser)
    assert notification.category == Category.POSTS
    assert notification.line == "Sam posted in Moira Terrace: “Bins on Thursday”"
    assert notification.url == post.get_absolute_url()
    assert notification.context["excerpt"] == "Bins go out **Thursday**."
    assert one("post.created", s.gwen).line == "Postiodd Sam yn Moira Terrace: “Bins on Thursday”"


def test_a_comment_is_for_the_posts_author_and_earlier_commenters_still_in_the_group():
    s = Street()
    post = services.create_post(author=s.sam, group=s.group, kind="question", title="Who has a ladder?", body="Please")
    first = services.add_comment(author=s.gwen, post=post, body="Mae gen i un.")
    assert recipients("comment.created", first) == ids(s.sam)
    notification = one("comment.created", s.sam)
    assert notification.category == Category.REPLIES
    assert notification.line == "Gwen commented on “Who has a ladder?”: “Mae gen i un.”"
    assert notification.url == f"{post.get_absolute_url()}#comment-{first.pk}"

    passer_by = MembershipFactory(group=s.group, user=person("Kit")).user
    second = services.add_comment(author=passer_by, post=post, body="Me too")
    assert recipients("comment.created", second) == ids(s.sam, s.gwen)
    welsh = Notification.objects.get(event="comment.created", recipient=s.gwen)
    assert welsh.line == "Rhoddodd Kit sylw ar “Who has a ladder?”: “Me too”"

    services.leave_group(member=passer_by, group=s.group)
    third = services.add_comment(author=s.organiser, post=post, body="Shed has two")
    assert recipients("comment.created", third) == ids(s.sam, s.gwen)  # a second comment still tells the author

    own = services.add_comment(author=s.sam, post=post, body="Thanks all")
    assert recipients("comment.created", own) == ids(s.gwen, s.organiser)
    assert_nobody_else(s, "comment.created")


def test_a_removed_author_hears_nothing_of_comments_on_their_post():
    s = Street()
    post = services.create_post(author=s.sam, group=s.group, kind="notice", title="Lost cat", body="Grey tabby")
    services.remove_member(organiser=s.organiser, membership=Membership.objects.get(group=s.group, user=s.sam))
    comment = services.add_comment(author=s.gwen, post=post, body="Seen her")
    assert recipients("comment.created", comment) == set()


def test_thanks_are_for_the_posts_author_while_they_are_a_member():
    s = Street()
    post = services.create_post(author=s.gwen, group=s.group, kind="offer", title="Free plants", body="Tomatoes")
    services.thank_post(user=s.sam, post=post)
    assert recipients("post.thanked") == ids(s.gwen)
    notification = one("post.thanked", s.gwen)
    assert notification.category == Category.REPLIES
    assert notification.line == "Diolchodd Sam am eich neges “Free plants”."
    assert notification.url == post.get_absolute_url()

    services.ban_member(organiser=s.organiser, membership=Membership.objects.get(group=s.group, user=s.gwen))
    services.thank_post(user=s.organiser, post=post)
    assert recipients("post.thanked") == ids(s.gwen)
    assert Notification.objects.filter(event="post.thanked").count() == 1


# --- Waves and connections -------------------------------------------------------------------------------------------


def test_a_wave_is_for_the_neighbour_waved_at():
    s = Street()
    services.send_wave(sender=s.sam, recipient=s.gwen, group=s.group, message="Hello from number 12")
    assert recipients("wave.received") == ids(s.gwen)
    notification = one("wave.received", s.gwen)
    assert notification.category == Category.NEIGHBOURS
    assert notification.line == "Chwifiodd Sam atoch chi yn Moira Terrace: “Hello from number 12”"
    assert notification.url == "/neighbours/"


def test_a_wave_without_a_message_reads_without_one():
    s = Street()
    services.send_wave(sender=s.gwen, recipient=s.sam, group=s.group)
    assert one("wave.received", s.sam).line == "Gwen waved to you in Moira Terrace."


def test_waving_back_tells_the_neighbour_who_waved():
    s = Street()
    wave = services.send_wave(sender=s.gwen, recipient=s.sam, group=s.group)
    services.answer_wave(recipient=s.sam, wave=wave, accept=True)
    assert recipients("connection.made") == ids(s.gwen)
    notification = one("connection.made", s.gwen)
    assert notification.category == Category.NEIGHBOURS
    assert notification.line == "Chwifiodd Sam yn ôl: rydych chi nawr wedi cysylltu fel cymdogion."


def test_declining_a_wave_or_meeting_again_tells_nobody():
    s = Street()
    wave = services.send_wave(sender=s.gwen, recipient=s.sam, group=s.group)
    services.answer_wave(recipient=s.sam, wave=wave, accept=False)
    low, high = sorted([s.organiser, s.sam], key=lambda u: u.pk)
    Connection.objects.create(user_low=low, user_high=high, group=s.group)
    stale = Wave.objects.create(sender=s.organiser, recipient=s.sam, group=s.group)
    services.answer_wave(recipient=s.sam, wave=stale, accept=True)  # already connected: nothing new
    assert not Notification.objects.filter(event="connection.made").exists()


# --- Events ----------------------------------------------------------------------------------------------------------


def test_a_new_event_is_for_every_other_active_member():
    s = Street()
    starts = timezone.now() + timedelta(days=3)
    event = services.create_event(
        creator=s.sam,
        group=s.group,
        title="Street party",
        starts_at=starts,
        ends_at=starts + timedelta(hours=3),
        place="The green",
    )
    assert recipients("event.created") == ids(s.organiser, s.gwen)
    assert_nobody_else(s, "event.created")
    notification = one("event.created", s.organiser)
    assert notification.category == Category.EVENTS
    assert notification.line == f"Sam planned an event in Moira Terrace: “Street party” on {when(starts)}."
    assert notification.url == event.get_absolute_url()
    welsh_when = when(starts, "cy")
    assert welsh_when != when(starts)
    assert one("event.created", s.gwen).line == (
        f"Mae Sam wedi trefnu digwyddiad yn Moira Terrace: “Street party” ar {welsh_when}."
    )


class Party:
    """An event planned by Sam, with replies from everyone who could have one."""

    def __init__(self, street: Street, *, starts_in=timedelta(days=3), capacity=None):
        self.street = s = street
        self.event = EventFactory(
            group=s.group,
            created_by=s.sam,
            title="Street party",
            place="The green",
            capacity=capacity,
            starts_at=timezone.now() + starts_in,
            ends_at=timezone.now() + starts_in + timedelta(hours=3),
        )
        self.waiting = MembershipFactory(group=s.group, user=person("Wyn")).user
        self.not_going = MembershipFactory(group=s.group, user=person("Nye")).user
        for user, status in [
            (s.sam, "going"),
            (s.organiser, "going"),
            (s.gwen, "maybe"),
            (self.waiting, "waitlisted"),
            (self.not_going, "not_going"),
            (s.left, "going"),
            (s.banned, "maybe"),
        ]:
            RSVPFactory(event=self.event, user=user, status=status)
        Event.objects.filter(pk=self.event.pk).update(going_count=3)
        self.event.refresh_from_db()

    def edit(self, editor, **changes):
        event = self.event
        fields = {
            "title": event.title,
            "starts_at": event.starts_at,
            "ends_at": event.ends_at,
            "place": event.place,
            "description": event.description,
            "capacity": event.capacity,
        }
        self.event = services.edit_event(editor=editor, event=event, **(fields | changes))
        return self.event


def test_a_changed_event_is_for_those_going_maybe_or_waiting_except_the_editor():
    s = Street()
    party = Party(s)
    party.edit(s.sam)  # nothing changed: nothing to tell
    assert not Notification.objects.filter(event="event.changed").exists()

    party.edit(s.sam, place="The church hall")
    assert recipients("event.changed") == ids(s.organiser, s.gwen, party.waiting)
    assert_nobody_else(s, "event.changed")
    notification = one("event.changed", s.organiser)
    assert notification.category == Category.MY_EVENTS
    starts = party.event.starts_at
    assert notification.line == (
        f"“Street party” in Moira Terrace has changed: it is now on {when(starts)} at The church hall."
    )
    assert one("event.changed", s.gwen).line == (
        f"Mae “Street party” yn Moira Terrace wedi newid: mae nawr ar {when(starts, 'cy')} yn The church hall."
    )

    party.edit(s.organiser, starts_at=starts + timedelta(hours=1), ends_at=starts + timedelta(hours=4))
    assert Notification.objects.filter(event="event.changed", recipient=s.gwen).count() == 2
    assert Notification.objects.filter(event="event.changed", recipient=s.sam).count() == 1
    assert Notification.objects.filter(event="event.changed", recipient=s.organiser).count() == 1


def test_a_cancelled_event_is_for_those_going_maybe_or_waiting_except_the_organiser_cancelling():
    s = Street()
    party = Party(s)
    services.cancel_event(editor=s.organiser, event=party.event)
    assert recipients("event.cancelled") == ids(s.sam, s.gwen, party.waiting)
    assert_nobody_else(s, "event.cancelled")
    notification = one("event.cancelled", s.sam)
    assert notification.category == Category.MY_EVENTS
    assert notification.line == (
        f"“Street party” in Moira Terrace on {when(party.event.starts_at)} has been cancelled."
    )


def test_whoever_moves_up_from_the_waiting_list_is_told():
    s = Street()
    party = Party(s, capacity=3)
    later = MembershipFactory(group=s.group, user=person("Zac")).user
    RSVPFactory(event=party.event, user=later, status="waitlisted")
    services.rsvp(user=s.organiser, event=party.event, status="not_going")
    assert recipients("event.promoted") == ids(party.waiting)
    notification = one("event.promoted", party.waiting)
    assert notification.category == Category.MY_EVENTS
    assert notification.line == (
        f"A place came free: you are now going to “Street party” on {when(party.event.starts_at)}."
    )
    assert notification.url == party.event.get_absolute_url()


def test_an_organiser_who_makes_room_for_themselves_is_not_told_but_others_are():
    s = Street()
    party = Party(s, capacity=3)
    boss = MembershipFactory(group=s.group, user=person("Ifan", "cy"), role="organiser").user
    RSVP.objects.filter(event=party.event, user=party.waiting).update(updated_at=timezone.now() - timedelta(hours=1))
    RSVPFactory(event=party.event, user=boss, status="waitlisted")
    party.edit(boss, capacity=10)
    assert recipients("event.promoted") == ids(party.waiting)
    assert RSVP.objects.get(event=party.event, user=boss).status == "going"


def test_moving_up_twice_is_told_twice():
    s = Street()
    party = Party(s, capacity=3)
    services.rsvp(user=s.organiser, event=party.event, status="not_going")
    services.rsvp(user=party.waiting, event=party.event, status="maybe")
    services.rsvp(user=s.organiser, event=party.event, status="going")
    services.rsvp(user=party.waiting, event=party.event, status="going")  # full again: back on the list
    services.rsvp(user=s.sam, event=party.event, status="not_going")
    assert Notification.objects.filter(event="event.promoted", recipient=party.waiting).count() == 2


def test_people_going_are_reminded_once_a_day_before():
    s = Street()
    party = Party(s, starts_in=timedelta(hours=20))
    later = Party(Street(), starts_in=timedelta(hours=30))
    called_off = Party(Street(), starts_in=timedelta(hours=5))
    called_off.event.cancelled_at = timezone.now()
    called_off.event.save()

    assert event_services.send_event_reminders() == 2
    assert recipients("event.reminder") == ids(s.sam, s.organiser)
    assert not recipients("event.reminder") & ids(later.street.sam, called_off.street.sam)
    notification = one("event.reminder", s.sam)
    assert notification.category == Category.MY_EVENTS
    starts = party.event.starts_at
    assert notification.line == f"Coming up: “Street party” on {when(starts)} at The green."
    assert notification.url == party.event.get_absolute_url()

    assert event_services.send_event_reminders() == 0
    assert event_services.send_event_reminders(now=timezone.now() + timedelta(hours=7)) == 2  # now the later one
    assert Notification.objects.filter(event="event.reminder").count() == 4


def test_a_welsh_member_going_is_reminded_in_welsh_and_a_moved_event_is_reminded_of_again():
    s = Street()
    party = Party(s, starts_in=timedelta(hours=20))
    RSVP.objects.filter(event=party.event, user=s.gwen).update(status="going")
    event_services.send_event_reminders()
    starts = party.event.starts_at
    assert one("event.reminder", s.gwen).line == f"Ar y gweill: “Street party” ar {when(starts, 'cy')} yn The green."
    party.edit(s.organiser, starts_at=starts + timedelta(hours=2), ends_at=starts + timedelta(hours=5))
    # Sam, Olwen, Gwen, and Wyn, who moved up from the waiting list when the event was edited (no limit on places)
    assert event_services.send_event_reminders() == 4
    assert Notification.objects.filter(event="event.reminder", recipient=s.gwen).count() == 2


def test_a_rerun_of_the_reminders_costs_one_query_per_event(django_assert_num_queries):
    for _ in range(3):
        Party(Street(), starts_in=timedelta(hours=10))
    event_services.send_event_reminders()
    with django_assert_num_queries(1 + 3):  # the events, then who still needs a reminder for each
        assert event_services.send_event_reminders() == 0


def test_the_reminder_task_runs_the_service():
    from neighbourhoods.tasks import send_event_reminders

    s = Street()
    Party(s, starts_in=timedelta(hours=2))
    assert send_event_reminders.run() == 2


# --- Initiatives -----------------------------------------------------------------------------------------------------


class Garden:
    """An initiative in the street's group, led by Sam."""

    def __init__(self, street: Street, *, status: str = "active"):
        self.street = street
        self.initiative = InitiativeFactory(group=street.group, title="Plot garden", status=status)
        InitiativeRoleFactory(initiative=self.initiative, user=street.sam, role="lead")


def test_a_new_initiative_is_for_every_other_member_of_its_group():
    s = Street()
    initiative = initiative_services.propose_initiative(
        proposer=s.sam, group=s.group, title="Plot garden", summary="A garden on the empty plot"
    )
    assert recipients("initiative.proposed") == ids(s.organiser, s.gwen)
    assert_nobody_else(s, "initiative.proposed")
    notification = one("initiative.proposed", s.organiser)
    assert notification.category == Category.INITIATIVES
    assert notification.line == "Sam proposed a new initiative in Moira Terrace: “Plot garden”"
    assert notification.url == initiative.get_absolute_url()
    assert (
        one("initiative.proposed", s.gwen).line == "Mae Sam wedi cynnig menter newydd yn Moira Terrace: “Plot garden”"
    )


def test_an_update_is_for_supporters_and_volunteers():
    s = Street()
    garden = Garden(s)
    support_services.support(supporter=s.gwen, initiative=garden.initiative)
    volunteer_services.sign_up(user=s.organiser, role=VolunteerRoleFactory(initiative=garden.initiative))
    update_services.post_update(author=s.sam, initiative=garden.initiative, title="Beds dug", body="All six.")
    assert recipients("initiative.update_posted") == ids(s.gwen, s.organiser)
    notification = one("initiative.update_posted", s.organiser)
    assert notification.category == Category.INITIATIVES
    assert notification.line == "Sam posted an update on Plot garden: “Beds dug”"
    assert one("initiative.update_posted", s.gwen).line == "Postiodd Sam ddiweddariad ar Plot garden: “Beds dug”"


def test_a_volunteer_signing_up_is_for_the_organisers():
    s = Street()
    garden = Garden(s)
    InitiativeRoleFactory(initiative=garden.initiative, user=s.gwen, role="co_organiser")
    role = VolunteerRoleFactory(initiative=garden.initiative, title="Digger")
    volunteer_services.sign_up(user=s.organiser, role=role)
    assert recipients("initiative.volunteer_signed_up") == ids(s.sam, s.gwen)
    notification = one("initiative.volunteer_signed_up", s.sam)
    assert notification.category == Category.ORGANISING
    assert notification.line == "Olwen signed up to help as “Digger” on Plot garden."
    assert one("initiative.volunteer_signed_up", s.gwen).line == (
        "Mae Olwen wedi cofrestru i helpu fel “Digger” ar Plot garden."
    )


def test_a_pledge_is_for_the_organisers():
    s = Street()
    garden = Garden(s)
    ask = AskFactory(initiative=garden.initiative, title="Bags of compost", unit="bags", target=20)
    ask_services.pledge(user=s.gwen, ask=ask, amount=5)
    assert recipients("initiative.pledge_received") == ids(s.sam)
    notification = one("initiative.pledge_received", s.sam)
    assert notification.category == Category.ORGANISING
    assert notification.line == "Gwen pledged 5 bags towards “Bags of compost” on Plot garden."


# --- Decisions -------------------------------------------------------------------------------------------------------


def open_decision(garden: Garden, *, closes_in=timedelta(days=3)):
    return decision_services.open_decision(
        organiser=garden.street.sam,
        initiative=garden.initiative,
        kind="proposal",
        question="Shall we plant fruit trees?",
        closes_at=timezone.now() + closes_in,
    )


def test_an_opened_decision_is_for_every_member_who_may_vote():
    s = Street()
    garden = Garden(s)
    open_decision(garden)
    assert recipients("decision.opened") == ids(s.organiser, s.gwen)
    assert_nobody_else(s, "decision.opened")
    notification = one("decision.opened", s.organiser)
    assert notification.category == Category.DECISIONS
    assert notification.line == "Sam asked everyone on Plot garden to decide: “Shall we plant fruit trees?”"
    assert one("decision.opened", s.gwen).line == (
        "Mae Sam wedi gofyn i bawb ar Plot garden benderfynu: “Shall we plant fruit trees?”"
    )


def test_members_who_have_not_voted_hear_a_day_before_voting_closes():
    s = Street()
    garden = Garden(s)
    decision = open_decision(garden)
    decision_services.vote(user=s.organiser, decision=decision, position="agree")
    newcomer = MembershipFactory(group=s.group, user=person("Nia")).user

    assert decision_services.remind_closing_decisions() == 0  # three days to go
    soon = timezone.now() + timedelta(days=2, hours=1)
    assert decision_services.remind_closing_decisions(now=soon) == 3
    assert recipients("decision.closing_soon") == ids(s.sam, s.gwen, newcomer)
    assert_nobody_else(s, "decision.closing_soon")
    notification = one("decision.closing_soon", s.sam)
    assert notification.category == Category.DECISIONS
    assert notification.line == (
        f"Voting closes on {when(decision.closes_at)}: “Shall we plant fruit trees?” (Plot garden). "
        "You have not voted yet."
    )
    assert notification.url == decision_services.decision_url(decision)
    assert one("decision.closing_soon", s.gwen).line.startswith(
        f"Mae\u2019r pleidleisio\u2019n cau ar {when(decision.closes_at, 'cy')}"
    )
    assert decision_services.remind_closing_decisions(now=soon) == 0


def test_short_decisions_and_archived_initiatives_get_no_closing_reminder():
    s = Street()
    open_decision(Garden(s), closes_in=timedelta(hours=20))
    archived = Garden(s)
    open_decision(archived)
    archived.initiative.status = "archived"
    archived.initiative.save()
    assert decision_services.remind_closing_decisions(now=timezone.now() + timedelta(days=2, hours=1)) == 0
    assert decision_services.remind_closing_decisions(now=timezone.now() + timedelta(hours=1)) == 0


def test_the_closing_reminder_task_runs_the_service():
    from initiatives.tasks import remind_closing_decisions

    s = Street()
    decision = open_decision(Garden(s))
    Decision.objects.filter(pk=decision.pk).update(
        created_at=timezone.now() - timedelta(days=2), closes_at=timezone.now() + timedelta(hours=23)
    )
    assert remind_closing_decisions.run() == 3


def test_a_closed_decision_is_for_voters_and_organisers_except_whoever_closed_it():
    s = Street()
    garden = Garden(s)
    InitiativeRoleFactory(initiative=garden.initiative, user=s.organiser, role="co_organiser")
    decision = open_decision(garden)
    decision_services.vote(user=s.gwen, decision=decision, position="agree")
    decision_services.close_decision(decision=decision, by=s.organiser)
    assert recipients("decision.closed") == ids(s.sam, s.gwen)
    notification = one("decision.closed", s.sam)
    assert notification.category == Category.DECISIONS
    assert notification.line == (
        "Decision closed on Plot garden: “Shall we plant fruit trees?”. "
        "Agreed: 1 agree, 0 abstain, 0 disagree, 0 block."
    )
    assert one("decision.closed", s.gwen).line.startswith("Penderfyniad wedi cau ar Plot garden")


# --- Council offers --------------------------------------------------------------------------------------------------


class Request:
    """Sam's initiative asks its council for a skip; an officer will answer."""

    def __init__(self):
        council = CouncilFactory(name="Cardiff Council")
        self.street = s = Street()
        s.group.neighbourhood = NeighbourhoodFactory(council=council)
        s.group.save()
        self.garden = Garden(s)
        self.garden.initiative.neighbourhood = s.group.neighbourhood
        self.garden.initiative.save()
        InitiativeRoleFactory(initiative=self.garden.initiative, user=s.gwen, role="co_organiser")
        self.officer = CouncilMembershipFactory(council=council, user=person("Officer")).user
        offer = CouncilOfferFactory(council=council, title="Skip hire", unlock_supporters=None)
        self.backing = council_services.request_offer(by=s.sam, initiative=self.garden.initiative, offer=offer)


def test_a_request_is_for_the_councils_officers():
    request = Request()
    assert recipients("council.offer_requested") == ids(request.officer)
    notification = one("council.offer_requested", request.officer)
    assert notification.category == Category.COUNCIL
    assert notification.line == "Plot garden asked Cardiff Council for “Skip hire”."


def test_an_approved_offer_is_for_the_initiatives_organisers():
    request = Request()
    s = request.street
    council_services.approve_backing(officer=request.officer, backing=request.backing, message="Happy to help")
    assert recipients("council.offer_approved") == ids(s.sam, s.gwen)
    notification = one("council.offer_approved", s.sam)
    assert notification.category == Category.COUNCIL
    assert notification.line == "Cardiff Council approved “Skip hire” for Plot garden."
    assert (
        one("council.offer_approved", s.gwen).line == "Cymeradwyodd Cardiff Council “Skip hire” ar gyfer Plot garden."
    )


def test_a_declined_offer_is_for_the_initiatives_organisers():
    request = Request()
    s = request.street
    council_services.decline_backing(officer=request.officer, backing=request.backing, message="No budget left")
    assert recipients("council.offer_declined") == ids(s.sam, s.gwen)
    notification = one("council.offer_declined", s.sam)
    assert notification.category == Category.COUNCIL
    assert notification.line == "Cardiff Council said no to “Skip hire” for Plot garden."
    assert (
        one("council.offer_declined", s.gwen).line == "Dywedodd Cardiff Council na i “Skip hire” ar gyfer Plot garden."
    )


# --- Every event has its line ----------------------------------------------------------------------------------------

EVENTS = {
    "membership.requested": Category.MEMBERSHIP,
    "membership.approved": Category.MEMBERSHIP,
    "post.created": Category.POSTS,
    "comment.created": Category.REPLIES,
    "post.thanked": Category.REPLIES,
    "wave.received": Category.NEIGHBOURS,
    "connection.made": Category.NEIGHBOURS,
    "event.created": Category.EVENTS,
    "event.changed": Category.MY_EVENTS,
    "event.cancelled": Category.MY_EVENTS,
    "event.reminder": Category.MY_EVENTS,
    "event.promoted": Category.MY_EVENTS,
    "initiative.proposed": Category.INITIATIVES,
    "initiative.invited": Category.ORGANISING,
    "initiative.update_posted": Category.INITIATIVES,
    "initiative.volunteer_signed_up": Category.ORGANISING,
    "initiative.volunteer_withdrew": Category.ORGANISING,
    "initiative.volunteer_role_removed": Category.INITIATIVES,
    "initiative.pledge_received": Category.ORGANISING,
    "initiative.ask_removed": Category.INITIATIVES,
    "decision.opened": Category.DECISIONS,
    "decision.closing_soon": Category.DECISIONS,
    "decision.closed": Category.DECISIONS,
    "council.offer_requested": Category.COUNCIL,
    "council.offer_approved": Category.COUNCIL,
    "council.offer_declined": Category.COUNCIL,
}


@pytest.mark.parametrize("event", sorted(EVENTS))
def test_every_event_has_a_line_template_of_its_own(event):
    from django.template.loader import get_template

    template = get_template(notifications.line_template_name(event))
    source = template.template.source
    assert source.startswith("{% load i18n %}")
    assert "{% blocktranslate" in source
    assert source.count("\n") == 1  # one line
    line = notifications.render_line(event=event, context={}, language="en-gb")
    assert line
    assert line != "There is something new for you on Stronger Streets."
