from django.contrib import admin

from .models import Backing, CouncilOffer, Initiative


@admin.register(Initiative)
class InitiativeAdmin(admin.ModelAdmin):
    list_display = ["title", "status", "category", "neighbourhood", "group", "created_at"]
    list_filter = ["status", "category"]
    list_select_related = ["neighbourhood", "group"]
    search_fields = ["title", "summary"]
    readonly_fields = ["version", "support_count", "description_html"]


@admin.register(CouncilOffer)
class CouncilOfferAdmin(admin.ModelAdmin):
    list_display = ["title", "council", "kind", "unlock_supporters", "is_open"]
    list_filter = ["kind", "is_open", "council"]
    list_select_related = ["council"]


@admin.register(Backing)
class BackingAdmin(admin.ModelAdmin):
    list_display = ["offer", "initiative", "status", "decided_at"]
    list_filter = ["status"]
    list_select_related = ["offer", "initiative"]
