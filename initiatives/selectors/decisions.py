"""Reads for decisions. Callers have already loaded the initiative for the viewer (`get_initiative_context`), so
the viewer may see it; every function here runs a fixed number of queries however many decisions or votes there are.

Results are visible to everyone who can see the initiative, while voting is open and after it closes. Who voted
which way is not shown; reasons are shown without names, and only to people who may take part.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Case, Count, F, OuterRef, QuerySet, Subquery, When
from django.shortcuts import get_object_or_404

from ..models import Decision, Initiative, Vote

REASONS_SHOWN = 100


@dataclass(frozen=True)
class ResultRow:
    key: str  # a position ("agree", …) or an option's id
    label: str
    count: int
    total: int
    leading: bool = False

    @property
    def percent(self) -> int:
        return round(100 * self.count / self.total) if self.total else 0

    @property
    def meter_max(self) -> int:
        return self.total or 1


@dataclass(frozen=True)
class Results:
    rows: list[ResultRow] = field(default_factory=list)
    total: int = 0


def _viewer_vote(viewer) -> dict:
    """`my_position` and `my_option_id` on each decision: the viewer's vote, as subqueries of the same query."""
    if viewer is None or not viewer.is_authenticated:
        return {}
    mine = Vote.objects.filter(decision=OuterRef("pk"), user=viewer)
    return {
        "my_position": Subquery(mine.values("position")[:1]),
        "my_option_id": Subquery(mine.values("option_id")[:1]),
    }


def list_decisions(*, initiative: Initiative, viewer) -> QuerySet:
    """The initiative's decisions: open ones first, closing soonest first; then closed ones, latest first. Each
    carries the viewer's own vote (`my_position`, `my_option_id`); options are prefetched (one more query)."""
    return (
        Decision.objects.filter(initiative=initiative)
        .select_related("initiative")
        .prefetch_related("options")
        .annotate(**_viewer_vote(viewer))
        .order_by(
            "-status",  # "open" sorts after "closed", so descending puts open decisions first
            Case(When(status=Decision.Status.OPEN, then=F("closes_at"))).asc(nulls_last=True),
            F("closed_at").desc(nulls_last=True),
            "-pk",
        )
    )


def _results_for(decision: Decision, counts: dict) -> Results:
    if decision.kind == Decision.Kind.PROPOSAL:
        pairs = [(position.value, position.label) for position in Vote.Position]
    else:
        pairs = [(str(option.pk), option.label) for option in decision.options.all()]
    total = sum(counts.get(key, 0) for key, _label in pairs)
    top = max((counts.get(key, 0) for key, _label in pairs), default=0)
    rows = [
        ResultRow(
            key=key,
            label=str(label),
            count=counts.get(key, 0),
            total=total,
            leading=decision.kind == Decision.Kind.POLL and top > 0 and counts.get(key, 0) == top,
        )
        for key, label in pairs
    ]
    return Results(rows=rows, total=total)


def attach_results(decisions) -> list[Decision]:
    """Give each decision `results` (counts per position or option) and `my_choice` (the label of the viewer's
    vote, if annotated). One aggregate query for all of them; options must already be prefetched."""
    decisions = list(decisions)
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    if decisions:
        rows = (
            Vote.objects.filter(decision_id__in=[d.pk for d in decisions])
            .values("decision_id", "position", "option_id")
            .annotate(n=Count("pk"))
            .order_by()
        )
        for row in rows:
            key = row["position"] or str(row["option_id"])
            counts[row["decision_id"]][key] = counts[row["decision_id"]].get(key, 0) + row["n"]
    for decision in decisions:
        decision.results = _results_for(decision, counts[decision.pk])
        decision.my_choice = _choice_label(
            decision, getattr(decision, "my_position", None), getattr(decision, "my_option_id", None)
        )
    return decisions


def _choice_label(decision: Decision, position: str | None, option_id: int | None) -> str | None:
    if position:
        return str(Vote.Position(position).label)
    if option_id is not None:
        return next((option.label for option in decision.options.all() if option.pk == option_id), None)
    return None


@dataclass(frozen=True)
class DecisionDetail:
    decision: Decision
    my_vote: Vote | None
    reasons: list = field(default_factory=list)  # (position label or option label, reason), without names


def get_decision(*, initiative: Initiative, decision_id: int) -> Decision:
    """One of the initiative's decisions with its options and who opened it (two queries), or a 404."""
    return get_object_or_404(
        Decision.objects.filter(initiative=initiative)
        .select_related("initiative", "created_by__profile")
        .prefetch_related("options"),
        pk=decision_id,
    )


def decision_detail(*, initiative: Initiative, viewer, decision_id: int, show_reasons: bool) -> DecisionDetail:
    """The decision page: the decision, its results, the viewer's own vote and — for people who may take part or
    run it — the reasons people gave, without names. At most five queries."""
    decision = get_decision(initiative=initiative, decision_id=decision_id)
    my_vote = None
    if viewer.is_authenticated:
        my_vote = Vote.objects.filter(decision=decision, user=viewer).first()
    decision.my_position = my_vote.position if my_vote else None
    decision.my_option_id = my_vote.option_id if my_vote else None
    attach_results([decision])
    reasons = []
    if show_reasons:
        given = (
            Vote.objects.filter(decision=decision)
            .exclude(reason="")
            .order_by("-updated_at", "-pk")
            .values_list("position", "option_id", "reason")[:REASONS_SHOWN]
        )
        reasons = [(_choice_label(decision, position, option_id), reason) for position, option_id, reason in given]
    return DecisionDetail(decision=decision, my_vote=my_vote, reasons=reasons)
