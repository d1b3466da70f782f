"""Who may do what with an initiative. Predicates take the `InitiativeContext` loaded once per request, so checking
costs no further queries."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .selectors import InitiativeContext


def can_view(ctx: InitiativeContext) -> bool:
    """Initiatives of a members-only group are for its members (and the council's officers see public ones only)."""
    group = ctx.initiative.group
    return group is None or group.is_public or ctx.is_member


def can_participate(ctx: InitiativeContext) -> bool:
    """Support, volunteer, pledge and vote: members of the initiative's group (or, for a neighbourhood-wide
    initiative, of any street group in the neighbourhood)."""
    return ctx.is_member


def can_organise(ctx: InitiativeContext) -> bool:
    """Edit, post updates, manage volunteer roles and asks, run decisions, record outcomes: the lead and the
    co-organisers who accepted, while they are still members where the initiative lives."""
    return (ctx.is_lead or ctx.is_co_organiser) and ctx.is_member


def can_lead(ctx: InitiativeContext) -> bool:
    """Invite co-organisers and hand over the lead: the lead only, while still a member."""
    return ctx.is_lead and ctx.is_member


def can_act_for_council(ctx: InitiativeContext) -> bool:
    """Answer requests for the council's offers: officers of the initiative's own council."""
    return ctx.is_officer
