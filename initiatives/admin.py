from django.contrib import admin

from .models import Backing, CouncilOffer, Initiative


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "category", "neighbourhood", "group", "created_at"]
    list_filter = ["status", "category"]
    list_select_related = ["neighbourhood", "group"]
    search_fields = ["title", "summary"]
    # Status and ownership change only through the app's actions, which keep the history, timeline and
    # notifications in step; the admin is for correcting text.
    readonly_fields = [
        "status",
        "slug",
        "group",
        "neighbourhood",
        "created_by",
        "version",
        "support_count",
        "description_html",
    ]


@admin.register(CouncilOffer)
class CouncilOfferAdmin(admin.ModelAdmin):
    list_display = ["title", "council", "kind", "unlock_supporters", "is_open"]
    list_filter = ["kind", "is_open", "council"]
    list_select_related = ["council"]


@admin.register(Backing)
class BackingAdmin(admin.ModelAdmin):
    list_display = ["offer", "initiative", "status", "decided_at"]
    # Officers answer requests on their council's pages, which record the timeline entry and notify the organisers.
    readonly_fields = ["offer", "initiative", "status", "requested_by", "decided_by", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["offer", "initiative"]
