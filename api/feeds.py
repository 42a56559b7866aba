"""Atom feeds of approved changes, per office, region and evaluation, for people who follow them in a reader.

A feed reader is anonymous: a feed carries what the public reads (the
reading rules' public row, `restrict(None, ...)`): responses as they are
approved, and progress reported on approved responses, without who reported
it and without evidence marked internal.
"""

from __future__ import annotations

from django.contrib.syndication.views import Feed
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from tracking.models import ActionUpdate, Evaluation, ManagementResponse, Office, Region
from tracking.permissions import restrict

ENTRIES = 50


class _Entry:
    def __init__(self, kind: str, when, title: str, text: str, link: str, guid: str):
        self.kind, self.when, self.title, self.text, self.link, self.guid = kind, when, title, text, link, guid


def _entries(evaluation_filter: dict) -> list[_Entry]:
    public = None  # the public reads feeds
    approvals = (
        restrict(public, ManagementResponse)
        .filter(approved_at__isnull=False, **{f"evaluation__{k}": v for k, v in evaluation_filter.items()})
        .select_related("evaluation")
        .order_by("-approved_at")[:ENTRIES]
    )
    updates = (
        restrict(public, ActionUpdate)
        .filter(**{f"key_action__evaluation__{k}": v for k, v in evaluation_filter.items()})
        .select_related("key_action__evaluation")
        .order_by("-created_at", "-id")[:ENTRIES]
    )
    entries = [
        _Entry("approval", r.approved_at, f"Management response approved: {r.evaluation}", r.overall_response[:1000],
               reverse("web:evaluation", args=[r.evaluation_id]), f"response-{r.pk}-approved")
        for r in approvals
    ]
    for u in updates:
        action = u.key_action
        link = u.evidence_url if (u.evidence_url and not u.evidence_internal) else ""
        text = u.comment + (f"\n\nEvidence: {link}" if link else "")
        entries.append(_Entry(
            "progress", u.created_at, f"Key action {action.number} of {action.evaluation}: {u.status_after}", text,
            reverse("web:action", args=[action.pk]), f"update-{u.pk}",
        ))
    entries.sort(key=lambda e: e.when, reverse=True)
    return entries[:ENTRIES]


class _ApprovedChanges(Feed):
    feed_type = Atom1Feed

    def items(self, obj):
        return _entries(self.evaluation_filter(obj))

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        return item.text

    def item_link(self, item):
        return item.link

    def item_guid(self, item):
        return item.guid

    item_guid_is_permalink = False

    def item_pubdate(self, item):
        return item.when

    def item_updateddate(self, item):
        return item.when


class OfficeFeed(_ApprovedChanges):
    def get_object(self, request, slug):
        return get_object_or_404(restrict(None, Office), slug=slug)

    def title(self, obj):
        return f"{obj.name}: approved responses and progress · followthrough"

    def link(self, obj):
        return reverse("web:office", args=[obj.slug])

    def evaluation_filter(self, obj):
        return {"office_id": obj.pk}


class RegionFeed(_ApprovedChanges):
    def get_object(self, request, slug):
        return get_object_or_404(restrict(None, Region), slug=slug)

    def title(self, obj):
        return f"{obj.name}: approved responses and progress · followthrough"

    def link(self, obj):
        return reverse("web:region", args=[obj.slug])

    def evaluation_filter(self, obj):
        return {"office__region_id": obj.pk}


class EvaluationFeed(_ApprovedChanges):
    def get_object(self, request, pk):
        return get_object_or_404(restrict(None, Evaluation), pk=pk)

    def title(self, obj):
        return f"{obj}: approved response and progress · followthrough"

    def link(self, obj):
        return reverse("web:evaluation", args=[obj.pk])

    def evaluation_filter(self, obj):
        return {"pk": obj.pk}
