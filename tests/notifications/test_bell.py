"""The bell: the unread count in every page's header (cached, so it costs no query), the notifications page grouped
by day, and marking notifications read."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Profile
from notifications import services
from notifications.context_processors import unread
from notifications.models import Category, Notification
from tests.factories import GroupFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

LIST = reverse("notifications:list")
HOME = reverse("core:home")


def notify(user, n: int, *, read: bool = False, url: str = "/groups/street/", line: str = "") -> list[Notification]:
    rows = Notification.objects.bulk_create(
        [
            Notification(
                recipient=user,
                event="post.created",
                category=Category.POSTS,
                dedupe_key=f"test:{user.pk}:{Notification.objects.count()}:{i}",
                url=url,
                line=line or f"Something happened {i}",
                read_at=timezone.now() if read else None,
            )
            for i in range(n)
        ]
    )
    services.forget_unread_counts([user.pk])
    return rows


def notification_queries(queries) -> list[str]:
    return [q["sql"] for q in queries if "notifications_notification" in q["sql"]]


# --- The count in the header ----------------------------------------------------------------------------------


def test_the_header_shows_the_unread_count_to_the_signed_in_person(client, user):
    notify(user, 3)
    notify(user, 2, read=True)
    client.force_login(user)
    content = client.get(HOME).content.decode()
    assert f'href="{LIST}"' in content
    # The accessible name, "Notifications 3 unread", starts with what is seen: "Notifications 3".
    assert 'Notifications <span class="count">3</span><span class="visually-hidden"> unread</span>' in content


def test_one_unread_reads_in_the_singular_and_none_shows_no_count(client, user):
    client.force_login(user)
    content = client.get(HOME).content.decode()
    assert f'href="{LIST}">Notifications</a>' in content
    assert 'class="count"' not in content
    notify(user, 1)
    one = client.get(HOME).content.decode()
    assert '<span class="count">1</span><span class="visually-hidden"> unread</span>' in one

    notify(user, 1)
    Profile.objects.filter(user=user).update(language="cy")
    welsh = client.get(HOME).content.decode()
    assert '<span class="count">2</span><span class="visually-hidden"> heb eu darllen</span>' in welsh


def test_visitors_see_no_bell(client):
    content = client.get(HOME).content.decode()
    assert LIST not in content
    assert 'class="count"' not in content


def test_a_cached_count_costs_no_query_and_a_missing_one_costs_one(client, user, django_assert_max_num_queries):
    notify(user, 4)
    client.force_login(user)
    cache.delete(services.unread_cache_key(user.pk))
    with CaptureQueriesContext(connection) as missed:
        client.get(HOME)
    assert len(notification_queries(missed.captured_queries)) == 1
    # Cached now: the page runs only the session and user queries, and nothing reads the notifications.
    with django_assert_max_num_queries(2) as cached:
        response = client.get(HOME)
    assert notification_queries(cached.captured_queries) == []
    assert '<span class="count">4</span>' in response.content.decode()


def test_the_count_is_not_worked_out_unless_a_template_shows_it(user, django_assert_num_queries):
    cache.clear()
    request = RequestFactory().get("/")
    request.user = user
    with django_assert_num_queries(0):
        context = unread(request)
    with django_assert_num_queries(1):
        assert context["unread_notifications"] == 0
        assert context["unread_notifications"] == 0  # worked out once per page


def test_recording_forgets_the_cached_count(user, django_capture_on_commit_callbacks):
    group = GroupFactory()
    MembershipFactory(group=group, user=user)
    assert services.unread_count(user) == 0
    with django_capture_on_commit_callbacks(execute=True):
        services.record(
            event="post.created", category=Category.POSTS, subject=group, recipients=[user], context={}, url="/"
        )
    assert cache.get(services.unread_cache_key(user.pk)) is None
    assert services.unread_count(user) == 1


def test_reading_forgets_the_cached_count(client, user):
    first, _second = notify(user, 2)
    client.force_login(user)
    assert services.unread_count(user) == 2
    client.post(reverse("notifications:read", args=[first.pk]))
    assert services.unread_count(user) == 1
    client.post(reverse("notifications:read-all"))
    assert services.unread_count(user) == 0
    assert 'class="count"' not in client.get(HOME).content.decode()


# --- The notifications page ------------------------------------------------------------------------------------


def test_the_page_groups_notifications_by_day_newest_first(client, user):
    now = timezone.localtime()
    today, yesterday, older = notify(user, 3)
    Notification.objects.filter(pk=today.pk).update(line="News of today", created_at=now)
    Notification.objects.filter(pk=yesterday.pk).update(line="News of yesterday", created_at=now - timedelta(days=1))
    Notification.objects.filter(pk=older.pk).update(line="Older news", created_at=now - timedelta(days=5))
    client.force_login(user)
    response = client.get(LIST)
    assert response.status_code == 200
    content = response.content.decode()
    older_day = (now - timedelta(days=5)).strftime("%A %-d %B %Y")
    positions = [content.index(h) for h in [">Today</h2>", ">Yesterday</h2>", f">{older_day}</h2>"]]
    assert positions == sorted(positions)
    assert content.index("News of today") < content.index("News of yesterday") < content.index("Older news")
    assert [day.label for day in response.context["days"]] == ["Today", "Yesterday", older_day]
    assert content.count("<h1") == 1


def test_unread_notifications_are_marked_and_read_ones_link_to_their_object(client, user):
    (fresh,) = notify(user, 1, line="Fresh news", url="/groups/street/board/1/")
    (old,) = notify(user, 1, read=True, line="Old news", url="/groups/street/board/2/")
    client.force_login(user)
    content = client.get(LIST).content.decode()
    assert f'action="{reverse("notifications:read", args=[fresh.pk])}"' in content
    assert 'class="notification notification--unread"' in content
    assert '<span class="notification__new">New' in content
    assert '<a href="/groups/street/board/2/">Old news</a>' in content
    assert f'action="{reverse("notifications:read", args=[old.pk])}"' not in content
    assert "Mark all as read" in content


def test_lines_are_escaped_on_the_page(client, user):
    notify(user, 1, line="<script>alert(1)</script> said hello")
    client.force_login(user)
    content = client.get(LIST).content.decode()
    assert "<script>alert(1)</script>" not in content
    assert "&lt;script&gt;" in content


def test_someone_with_no_notifications_is_told_so(client, user):
    client.force_login(user)
    content = client.get(LIST).content.decode()
    assert "Nothing yet" in content
    assert "Mark all as read" not in content


def test_the_page_is_for_signed_in_people_only(client):
    response = client.get(LIST)
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]


@pytest.mark.parametrize("size", [5, 200])
def test_the_page_runs_a_fixed_number_of_queries(client, user, size, django_assert_max_num_queries):
    notify(user, size)
    notify(UserFactory(), 3)  # someone else's never show
    client.force_login(user)
    services.unread_count(user)  # the header's count is cached, as it is after signing in
    # session, user, the count for the pages, one page of notifications
    with django_assert_max_num_queries(4):
        response = client.get(LIST)
    assert response.status_code == 200
    shown = sum(len(day.notifications) for day in response.context["days"])
    assert shown == min(size, 30)
    assert response.context["page"].paginator.count == size


def test_later_pages_follow_on(client, user):
    notify(user, 35)
    client.force_login(user)
    response = client.get(LIST, {"page": 2})
    assert sum(len(day.notifications) for day in response.context["days"]) == 5
    assert client.get(LIST, {"page": "not-a-number"}).status_code == 200


# --- Marking read ------------------------------------------------------------------------------------------------


def test_reading_one_marks_it_and_goes_to_its_object(client, user):
    first, second = notify(user, 2, url="/groups/street/events/4/")
    client.force_login(user)
    response = client.post(reverse("notifications:read", args=[first.pk]))
    assert response.status_code == 302
    assert response["Location"] == "/groups/street/events/4/"
    first.refresh_from_db()
    second.refresh_from_db()
    assert first.read_at is not None
    assert second.read_at is None


def test_reading_one_again_keeps_when_it_was_first_read(client, user):
    (notification,) = notify(user, 1)
    client.force_login(user)
    client.post(reverse("notifications:read", args=[notification.pk]))
    notification.refresh_from_db()
    first_read = notification.read_at
    client.post(reverse("notifications:read", args=[notification.pk]))
    notification.refresh_from_db()
    assert notification.read_at == first_read


@pytest.mark.parametrize("url", ["", "https://elsewhere.example/phish", "//elsewhere.example/"])
def test_a_notification_without_a_safe_link_goes_back_to_the_list(client, user, url):
    (notification,) = notify(user, 1, url=url)
    client.force_login(user)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response["Location"] == LIST


def test_reading_needs_a_post(client, user):
    (notification,) = notify(user, 1)
    client.force_login(user)
    assert client.get(reverse("notifications:read", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications:read-all")).status_code == 405
    notification.refresh_from_db()
    assert notification.read_at is None


def test_someone_elses_notification_is_a_404_and_stays_unread(client, user):
    (theirs,) = notify(UserFactory(), 1)
    client.force_login(user)
    assert client.post(reverse("notifications:read", args=[theirs.pk])).status_code == 404
    assert client.post(reverse("notifications:read", args=[999_999_999])).status_code == 404
    assert client.post("/notifications/99999999999999999999999999/read/").status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_reading_all_marks_only_ones_own(client, user):
    mine = notify(user, 3)
    (theirs,) = notify(UserFactory(), 1)
    client.force_login(user)
    response = client.post(reverse("notifications:read-all"), follow=True)
    assert response.redirect_chain == [(LIST, 302)]
    assert "3 notifications marked as read." in response.content.decode()
    assert Notification.objects.filter(pk__in=[n.pk for n in mine], read_at__isnull=True).count() == 0
    theirs.refresh_from_db()
    assert theirs.read_at is None
    response = client.post(reverse("notifications:read-all"), follow=True)
    assert "You had no unread notifications." in response.content.decode()


def test_marking_read_needs_signing_in(client, user):
    (notification,) = notify(user, 1)
    response = client.post(reverse("notifications:read", args=[notification.pk]))
    assert response.status_code == 302
    assert reverse("account_login") in response["Location"]
    notification.refresh_from_db()
    assert notification.read_at is None
