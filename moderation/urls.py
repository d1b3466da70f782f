from django.urls import path

from . import views

app_name = "moderation"

urlpatterns = [
    path("neighbours/<int:membership_id>/block/", views.block_person, name="block"),
    path("accounts/blocked/", views.blocked_list, name="blocked"),
    path("accounts/blocked/<int:block_id>/unblock/", views.unblock_person, name="unblock"),
]
