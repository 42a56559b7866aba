"""Units to review (administrators): the units imports made, to rename, merge into the right one, or keep.

Units are reference data (any role reads them); changing them is the
administrators' (`manage_reference`), through tracking.services.unit_admin,
which checks that again and writes the history.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render

from tracking import params, permissions
from tracking.models import Office, Unit
from tracking.services import unit_admin

from ..forms import unit_choices

PAGE_SIZE = 50
OPERATIONS = ("rename", "merge", "review")


@login_required
def unit_review(request):
    if not permissions.can(request.actor, permissions.MANAGE_REFERENCE):
        raise PermissionDenied("Only administrators rename and merge units.")
    status = 200
    if request.method == "POST":
        op = params.choice(request.POST, "op", OPERATIONS)
        unit = get_object_or_404(Unit.objects.select_related("office"), pk=params.identifier(request.POST, "unit") or 0)
        try:
            if op == "rename":
                unit_admin.rename_unit(
                    request.actor, unit, name=params.text(request.POST, "name", 300), acronym=params.text(request.POST, "acronym", 60)
                )
                messages.success(request, f"Unit renamed; “{unit.name}” is kept as another name of it.")
            elif op == "merge":
                target = get_object_or_404(unit_choices(unit.office), pk=params.identifier(request.POST, "target") or 0)
                unit_admin.merge_units(request.actor, unit, target)
                messages.success(request, f"“{unit}” merged into “{target}”: its key actions, roles and names moved.")
            elif op == "review":
                unit_admin.mark_reviewed(request.actor, unit)
                messages.success(request, f"“{unit}” kept as it is.")
            else:
                raise ValidationError("Choose what to do: rename, merge or keep.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            status = 400
        else:
            return redirect(request.get_full_path())
    office_id = params.identifier(request.GET, "office")
    q = params.text(request.GET, "q")
    every = params.flag(request.GET, "all")
    units = Unit.objects.select_related("office").prefetch_related("aliases")
    if not every:
        units = units.filter(auto_created=True)
    if office_id:
        units = units.filter(office_id=office_id)
    if q:
        units = units.filter(Q(name__icontains=q) | Q(acronym__icontains=q) | Q(aliases__name__icontains=q)).distinct()
    units = units.annotate(actions=Count("key_actions", distinct=True)).order_by("office__name", "name", "pk")
    page = Paginator(units, PAGE_SIZE).get_page(request.GET.get("page"))
    rows = list(page.object_list)
    # Where each unit may be merged: its office's units and the corporate ones (what the picker offers).
    targets: dict[int, list[Unit]] = {}
    for office in {u.office for u in rows}:
        targets[office.pk] = [t for t in unit_choices(office).order_by("office__name", "name") if not t.auto_created]
    for u in rows:
        u.merge_targets = [t for t in targets[u.office_id] if t.pk != u.pk]
    return render(
        request,
        "web/units.html",
        {
            "page": page, "rows": rows, "q": q, "every": every, "office_id": office_id,
            "offices": Office.objects.filter(units__isnull=False).distinct().order_by("name"),
            "to_review": Unit.objects.filter(auto_created=True).count(), "nav": "workspace",
        },
        status=status,
    )
