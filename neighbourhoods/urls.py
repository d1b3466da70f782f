from django.urls import path

from .views import board, codes, events, groups, members, neighbours, search

app_name = "neighbourhoods"

urlpatterns = [
    path("find/", search.find, name="find"),
    path("groups/", groups.my_groups, name="my-groups"),
    path("groups/new/", groups.group_create, name="group-create"),
    path("groups/<slug:slug>/", groups.group_detail, name="group-detail"),
    path("groups/<slug:slug>/edit/", groups.group_edit, name="group-edit"),
    path("groups/<slug:slug>/join/", groups.group_join, name="group-join"),
    path("groups/<slug:slug>/leave/", groups.group_leave, name="group-leave"),
    path("groups/<slug:slug>/members/", members.member_list, name="member-list"),
    path("groups/<slug:slug>/members/<int:membership_id>/<str:action>/", members.member_action, name="member-action"),
    path("groups/<slug:slug>/vouch/<int:membership_id>/", members.vouch, name="vouch"),
    path("groups/<slug:slug>/codes/", codes.code_list, name="code-list"),
    path("groups/<slug:slug>/codes/<int:code_id>/flyer/", codes.flyer, name="flyer"),
    path("groups/<slug:slug>/codes/<int:code_id>/withdraw/", codes.code_revoke, name="code-revoke"),
    # The short address printed on flyers.
    path("j/", groups.join_with_code, name="join-code"),
    path("j/<str:code>/", groups.join_with_code, name="join-code"),
    # Each feature's module lists its own routes.
    *board.urlpatterns,
    *events.urlpatterns,
    *neighbours.urlpatterns,
]
