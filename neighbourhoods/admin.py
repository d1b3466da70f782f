from django.contrib import admin

from .models import Council, CouncilMembership, Group, Neighbourhood


@admin.register(Council)
class CouncilAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "nation"]
    search_fields = ["name", "code"]


@admin.register(Neighbourhood)
class NeighbourhoodAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "council", "households", "imd_decile"]
    list_filter = ["council", "imd_decile"]
    list_select_related = ["council"]
    search_fields = ["name", "code"]


@admin.register(Group)
class GroupAdmin(admin.ModelAdmin):
    list_display = ["name", "neighbourhood", "join_policy", "visibility", "created_at"]
    list_filter = ["join_policy", "visibility"]
    list_select_related = ["neighbourhood"]
    search_fields = ["name"]
    raw_id_fields = ["postcodes"]


@admin.register(CouncilMembership)
class CouncilMembershipAdmin(admin.ModelAdmin):
    """Staff give council officers their access here."""

    list_display = ["user", "council", "role", "created_at"]
    list_filter = ["council", "role"]
    list_select_related = ["user", "council"]
    autocomplete_fields = ["user", "council"]
