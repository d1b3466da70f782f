"""Decisions: organisers put a question to the initiative's people, members vote, and the decision closes with an
outcome recorded on the timeline.

A proposal is answered agree / abstain / disagree / block; a poll offers 2 to 10 options. Every vote and every close
takes the decision's row lock (`select_for_update`), so a vote arriving as the decision closes either counts in the
outcome or is refused: it is never saved after the outcome was worked out. `close_due_decisions` (run by beat every
few minutes) claims due decisions with `skip_locked`, so two runs at once share the work and never close one twice.

A block needs a reason: blocking stops a proposal however many agree, so the organisers must learn what would have
to change.
"""

from collections import Counter
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from accounts.adapters import user_display
from accounts.models import User
from core.exceptions import DomainError
from core.text import render_markdown
from neighbourhoods.models import Membership
from notifications import services as notifications
from notifications.models import Category, Notification

from .. import timeline
from ..models import Decision, DecisionOption, Initiative, InitiativeRole, TimelineEntry, Vote
from ..selectors import InitiativeContext, active_memberships_for, is_neighbourhood_member

MIN_OPEN = timedelta(hours=1)
MAX_OPEN = timedelta(days=90)
MIN_OPTIONS = 2
MAX_OPTIONS = 10
OPTION_MAX_LENGTH = DecisionOption._meta.get_field("label").max_length
QUESTION_MAX_LENGTH = Decision._meta.get_field("question").max_length
DESCRIPTION_MAX_LENGTH = Decision._meta.get_field("description").max_length
REASON_MAX_LENGTH = Vote._meta.get_field("reason").max_length
OUTCOME_MAX_LENGTH = Decision._meta.get_field("outcome").max_length
BATCH_SIZE = 100
# People who have not voted are reminded this long before voting closes, if the decision was open longer than that.
CLOSING_SOON = timedelta(hours=24)


# --- Shared helpers -------------------------------------------------------------------------------------------


def display_name(user: User | None) -> str:
    if user is None:
        return ""
    return user_display(user) or _("A neighbour")


def context_for(user: User, initiative: Initiative) -> InitiativeContext:
    """What `user` is to `initiative` (two queries), for the same permission predicates the views use."""
    role = None
    if user.is_authenticated:
        role = (
            InitiativeRole.objects.filter(initiative=initiative, user=user)
            .exclude(status__in=[InitiativeRole.Status.DECLINED, InitiativeRole.Status.LEFT])
            .first()
        )
    return InitiativeContext(
        initiative=initiative,
        role=role,
        is_member=is_neighbourhood_member(user=user, initiative=initiative),
        is_officer=False,  # no officer-only action here
    )


def format_when(moment: datetime) -> str:
    """A moment as people in the UK read it, e.g. "3 June 2025, 18:00"."""
    return formats.date_format(timezone.localtime(moment), "j F Y, H:i")


def decision_url(decision: Decision) -> str:
    return reverse("initiatives:decision-detail", args=[decision.initiative.slug, decision.pk])


def eligible_voters(initiative: Initiative):
    """Everyone who may vote: active members of the initiative's group, or of any group in its neighbourhood for a
    neighbourhood-wide initiative. One query (distinct, as a person may belong to several groups)."""
    if initiative.group_id is not None:
        where = Q(memberships__group_id=initiative.group_id)
    else:
        where = Q(memberships__group__neighbourhood_id=initiative.neighbourhood_id)
    return User.objects.filter(where, memberships__status=Membership.Status.ACTIVE).distinct().only("pk")


def _lock(decision: Decision) -> Decision:
    return (
        Decision.objects.select_for_update(of=("self",))
        .select_related("initiative__group", "initiative__neighbourhood")
        .get(pk=decision.pk)
    )


# --- Opening a decision ---------------------------------------------------------------------------------------


def clean_options(options) -> list[str]:
    """Poll options as typed: blanks dropped, spaces trimmed; raises if there are too few, too many or repeats."""
    labels = [str(label).strip() for label in options or [] if str(label or "").strip()]
    if len(labels) < MIN_OPTIONS:
        raise DomainError(_("A poll needs at least two options."))
    if len(labels) > MAX_OPTIONS:
        raise DomainError(_("A poll can have up to ten options."))
    if any(len(label) > OPTION_MAX_LENGTH for label in labels):
        raise DomainError(
            _("Each option can be up to %(count)s characters. Shorten the longer ones.") % {"count": OPTION_MAX_LENGTH}
        )
    seen = set()
    for label in labels:
        key = " ".join(label.casefold().split())
        if key in seen:
            raise DomainError(_("Each option must be different: “%(label)s” is there twice.") % {"label": label})
        seen.add(key)
    return labels


def check_closing_time(closes_at: datetime) -> None:
    if timezone.is_naive(closes_at):
        raise DomainError(_("Choose when voting closes."))
    now = timezone.now()
    if closes_at < now + MIN_OPEN:
        raise DomainError(_("Voting must stay open for at least an hour. Choose a later closing time."))
    if closes_at > now + MAX_OPEN:
        raise DomainError(_("Voting can stay open for up to 90 days. Choose an earlier closing date."))


@transaction.atomic
def open_decision(
    *,
    organiser: User,
    initiative: Initiative,
    kind: str,
    question: str,
    description: str = "",
    closes_at: datetime,
    options=(),
) -> Decision:
    """Put a question to the initiative's people: a proposal, or a poll with 2 to 10 distinct options.

    Only the lead and co-organisers may. Voting stays open for between one hour and 90 days. Records a timeline
    entry and a "decision.opened" notification for every member who may vote (except the organiser).
    """
    if not context_for(organiser, initiative).can_organise:
        raise DomainError(_("Only the lead and co-organisers can open a decision."))
    if initiative.status == Initiative.Status.ARCHIVED:
        raise DomainError(_("This initiative has been archived, so it cannot open new decisions."))
    if kind not in Decision.Kind.values:
        raise DomainError(_("Choose whether this is a proposal or a poll."))
    question = (question or "").strip()
    if not question:
        raise DomainError(_("Enter the question people are deciding."))
    if len(question) > QUESTION_MAX_LENGTH:
        raise DomainError(_("The question can be up to %(count)s characters.") % {"count": QUESTION_MAX_LENGTH})
    description = (description or "").strip()
    if len(description) > DESCRIPTION_MAX_LENGTH:
        raise DomainError(_("The background can be up to %(count)s characters.") % {"count": DESCRIPTION_MAX_LENGTH})
    check_closing_time(closes_at)
    labels = clean_options(options) if kind == Decision.Kind.POLL else []

    decision = Decision.objects.create(
        initiative=initiative,
        kind=kind,
        question=question,
        description=description,
        description_html=render_markdown(description),
        closes_at=closes_at,
        created_by=organiser,
    )
    DecisionOption.objects.bulk_create(
        [DecisionOption(decision=decision, label=label, position=n) for n, label in enumerate(labels, start=1)]
    )
    url = decision_url(decision)
    name = display_name(organiser)
    timeline.record(
        initiative=initiative,
        kind=TimelineEntry.Kind.DECISION_OPENED,
        actor=organiser,
        message=gettext_noop("%(name)s asked everyone to decide: “%(question)s”"),
        params={"name": name, "question": question},
        url=url,
    )
    notifications.record(
        event="decision.opened",
        category=Category.DECISIONS,
        subject=decision,
        actor=organiser,
        recipients=eligible_voters(initiative).exclude(pk=organiser.pk),
        context={
            "initiative": initiative.title,
            "question": question,
            "kind": kind,
            "by": name,
            "closes_at": closes_at.isoformat(),
        },
        url=url,
    )
    return decision


# --- Voting ---------------------------------------------------------------------------------------------------


def voting_closed_message(decision: Decision) -> str:
    moment = decision.closed_at or decision.closes_at
    return _("Voting on this decision closed on %(when)s.") % {"when": format_when(moment)}


@transaction.atomic
def vote(
    *,
    user: User,
    decision: Decision,
    position: str | None = None,
    option: DecisionOption | int | None = None,
    reason: str = "",
) -> Vote:
    """Record `user`'s vote, or change it: one vote per person, which they may change until the decision closes.

    Only members who may take part in the initiative vote. A proposal takes a position (agree, abstain, disagree,
    block — a block needs a reason); a poll takes one of its own options. The decision's row lock keeps the vote
    and the closing of the decision in order.
    """
    decision = _lock(decision)
    if not context_for(user, decision.initiative).can_participate:
        raise DomainError(_("Only members of the group can vote on its initiatives' decisions. Join the group first."))
    if decision.status == Decision.Status.CLOSED or decision.closes_at <= timezone.now():
        raise DomainError(voting_closed_message(decision))
    if decision.initiative.status == Initiative.Status.ARCHIVED:
        raise DomainError(_("This initiative has been archived, so its decisions no longer take votes."))
    reason = (reason or "").strip()
    if len(reason) > REASON_MAX_LENGTH:
        raise DomainError(_("Your reason can be up to %(count)s characters.") % {"count": REASON_MAX_LENGTH})

    chosen_option = None
    if decision.kind == Decision.Kind.PROPOSAL:
        if option is not None or position not in Vote.Position.values:
            raise DomainError(_("Choose agree, abstain, disagree or block."))
        if position == Vote.Position.BLOCK and not reason:
            raise DomainError(_("Say why you are blocking, so the organisers know what would need to change."))
    else:
        option_id = option.pk if isinstance(option, DecisionOption) else option
        try:
            option_id = int(option_id)
        except (TypeError, ValueError):
            option_id = None
        if position or option_id is None:
            raise DomainError(_("Choose one of the options."))
        chosen_option = DecisionOption.objects.filter(decision=decision, pk=option_id).first()
        if chosen_option is None:
            raise DomainError(_("That is not one of this poll's options. Choose one of the options shown."))
        position = ""

    existing = Vote.objects.filter(decision=decision, user=user).first()
    if existing is None:
        return Vote.objects.create(decision=decision, user=user, position=position, option=chosen_option, reason=reason)
    existing.position = position
    existing.option = chosen_option
    existing.reason = reason
    existing.save(update_fields=["position", "option", "reason", "updated_at"])
    return existing


# --- Closing --------------------------------------------------------------------------------------------------


# Each outcome as it is stored on the decision, and as its line on the timeline (which also names the question).
# English sources, translated when shown; the values fill the placeholders.
OUTCOMES = {
    "no_votes": (
        gettext_noop("No votes were cast."),
        gettext_noop("Decision closed: “%(question)s”. No votes were cast."),
    ),
    "blocked": (
        gettext_noop("Blocked: %(agree)s agree, %(abstain)s abstain, %(disagree)s disagree, %(block)s block."),
        gettext_noop(
            "Decision closed: “%(question)s”. Blocked: %(agree)s agree, %(abstain)s abstain, "
            "%(disagree)s disagree, %(block)s block."
        ),
    ),
    "agreed": (
        gettext_noop("Agreed: %(agree)s agree, %(abstain)s abstain, %(disagree)s disagree, %(block)s block."),
        gettext_noop(
            "Decision closed: “%(question)s”. Agreed: %(agree)s agree, %(abstain)s abstain, "
            "%(disagree)s disagree, %(block)s block."
        ),
    ),
    "not_agreed": (
        gettext_noop("Not agreed: %(agree)s agree, %(abstain)s abstain, %(disagree)s disagree, %(block)s block."),
        gettext_noop(
            "Decision closed: “%(question)s”. Not agreed: %(agree)s agree, %(abstain)s abstain, "
            "%(disagree)s disagree, %(block)s block."
        ),
    ),
    "chosen": (
        gettext_noop("Chosen: “%(winner)s” (votes: %(votes)s of %(total)s)."),
        gettext_noop("Decision closed: “%(question)s”. Chosen: “%(winner)s” (votes: %(votes)s of %(total)s)."),
    ),
    "tie": (
        gettext_noop("A tie between %(winners)s (votes: %(votes)s each, %(total)s in total)."),
        gettext_noop(
            "Decision closed: “%(question)s”. A tie between %(winners)s (votes: %(votes)s each, %(total)s in total)."
        ),
    ),
}


def proposal_result(counts: dict[str, int]) -> str:
    """Which outcome a proposal's counts give: any block blocks it; otherwise more agree than disagree agrees it."""
    if not sum(counts.values()):
        return "no_votes"
    if counts.get(Vote.Position.BLOCK, 0):
        return "blocked"
    if counts.get(Vote.Position.AGREE, 0) > counts.get(Vote.Position.DISAGREE, 0):
        return "agreed"
    return "not_agreed"


def _result(decision: Decision) -> tuple[str, dict]:
    """The outcome's key in OUTCOMES and its values. One query for the counts, one more for a poll's options."""
    if decision.kind == Decision.Kind.PROPOSAL:
        counts = Counter(Vote.objects.filter(decision=decision).values_list("position", flat=True))
        params = {position: counts[position] for position in Vote.Position.values}
        return proposal_result(params), params

    counts = Counter(Vote.objects.filter(decision=decision).values_list("option_id", flat=True))
    total = sum(counts.values())
    if not total:
        return "no_votes", {}
    options = list(DecisionOption.objects.filter(decision=decision).order_by("position", "pk"))
    top = max(counts.values())
    winners = [option.label for option in options if counts[option.pk] == top]
    if len(winners) == 1:
        return "chosen", {"winner": winners[0], "votes": top, "total": total}
    return "tie", {"winners": ", ".join(f"“{label}”" for label in winners), "votes": top, "total": total}


def _close_locked(decision: Decision, *, by: User | None) -> Decision:
    """Close a decision whose row the caller holds locked. Does nothing if it is already closed."""
    if decision.status == Decision.Status.CLOSED:
        return decision
    key, params = _result(decision)
    outcome_message, timeline_message = OUTCOMES[key]
    # The stored outcome reads in the site's language, whoever (or whatever) closed it; the timeline entry keeps
    # the message and values, so each reader sees it in their own language.
    with translation.override(settings.LANGUAGE_CODE):
        outcome = _(outcome_message) % params
    decision.outcome = Truncator(outcome).chars(OUTCOME_MAX_LENGTH)
    decision.outcome_key = key
    decision.outcome_params = params
    decision.status = Decision.Status.CLOSED
    decision.closed_at = timezone.now()
    decision.save(update_fields=["outcome", "outcome_key", "outcome_params", "status", "closed_at", "updated_at"])

    url = decision_url(decision)
    timeline.record(
        initiative=decision.initiative,
        kind=TimelineEntry.Kind.DECISION_CLOSED,
        actor=by,
        message=timeline_message,
        params={"question": decision.question, **params},
        url=url,
    )
    voters = Vote.objects.filter(decision=decision).values("user_id")
    organisers = InitiativeRole.objects.filter(
        initiative_id=decision.initiative_id, status=InitiativeRole.Status.ACTIVE
    ).values("user_id")
    # Only people still members where the initiative lives: a members-only group's decision stays in the group.
    recipients = (
        User.objects.filter(Q(pk__in=voters) | Q(pk__in=organisers))
        .filter(Exists(active_memberships_for(decision.initiative, OuterRef("pk"))))
        .only("pk")
    )
    if by is not None:
        recipients = recipients.exclude(pk=by.pk)
    notifications.record(
        event="decision.closed",
        category=Category.DECISIONS,
        subject=decision,
        actor=by,  # None when it closed on time by itself
        recipients=recipients,
        context={"initiative": decision.initiative.title, "question": decision.question, "outcome": decision.outcome},
        url=url,
    )
    return decision


@transaction.atomic
def close_decision(*, decision: Decision, by: User | None = None) -> Decision:
    """Close the decision and record its outcome; closing one that is already closed changes nothing.

    `by` is the organiser closing it early (only the lead and co-organisers may); None when it closes on time.
    The outcome — "Agreed", "Blocked", "Not agreed" or "No votes" with the counts for a proposal; the chosen
    option, or the tie, for a poll — is stored on the decision and on the timeline, and voters and organisers get a
    "decision.closed" notification.
    """
    decision = _lock(decision)
    if decision.status == Decision.Status.CLOSED:
        return decision
    if by is not None and not context_for(by, decision.initiative).can_organise:
        raise DomainError(_("Only the lead and co-organisers can close a decision."))
    return _close_locked(decision, by=by)


def close_due_decisions(*, batch_size: int = BATCH_SIZE) -> int:
    """Close every open decision whose closing time has passed, `batch_size` at a time, each batch in its own
    transaction. Rows another run holds are skipped (it is closing them), so running this twice, or twice at the
    same moment, closes each decision exactly once. Returns how many this run closed."""
    closed = 0
    while True:
        with transaction.atomic():
            batch = list(
                Decision.objects.select_for_update(of=("self",), skip_locked=True)
                .select_related("initiative")
                .filter(status=Decision.Status.OPEN, closes_at__lte=timezone.now())
                .order_by("closes_at", "pk")[:batch_size]
            )
            for decision in batch:
                _close_locked(decision, by=None)
        closed += len(batch)
        if len(batch) < batch_size:
            return closed


# --- Closing soon ---------------------------------------------------------------------------------------------


def remind_closing_decisions(*, now: datetime | None = None) -> int:
    """Tell everyone who may vote and has not yet that voting closes within a day ("decision.closing_soon"), once
    per decision. Decisions opened for less than a day (their "opened" notification says enough) and those of
    archived initiatives are left alone.

    Beat runs this every few minutes. Each decision's reminders are written by one statement of their own (no
    long transaction over the whole run), and the recipients query leaves out whoever already has this reminder, so
    a rerun (or two at once: the outbox key holds) records nothing twice and costs one query per decision.
    Returns how many reminders were recorded.
    """
    now = now or timezone.now()
    decisions = list(
        Decision.objects.filter(
            status=Decision.Status.OPEN,
            closes_at__gt=now,
            closes_at__lte=now + CLOSING_SOON,
            created_at__lte=F("closes_at") - CLOSING_SOON,
        )
        .exclude(initiative__status=Initiative.Status.ARCHIVED)
        .select_related("initiative")
        .order_by("closes_at", "pk")
    )
    recorded = 0
    for decision in decisions:
        voted = Vote.objects.filter(decision=decision, user=OuterRef("pk"))
        reminded = Notification.objects.filter(
            recipient=OuterRef("pk"),
            event="decision.closing_soon",
            dedupe_key__startswith=f"decision.closing_soon:{decision.pk}:",
        )
        recorded += notifications.record(
            event="decision.closing_soon",
            category=Category.DECISIONS,
            subject=decision,
            recipients=eligible_voters(decision.initiative).exclude(Exists(voted)).exclude(Exists(reminded)),
            context={
                "initiative": decision.initiative.title,
                "question": decision.question,
                "closes_at": decision.closes_at,
            },
            url=decision_url(decision),
        )
    return recorded
