"""Import CSV (the Imported tab): upload -> preview with each row's problems -> fix or drop rows -> Import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from partnerdesk.lib.errors import DomainError, NotFound
from partnerdesk.practice import import_services, imports
from partnerdesk.practice.forms import ClientDetailsForm, detail_label
from partnerdesk.practice.models import ImportBatch, PracticeMember
from partnerdesk.practice.views import _member

ROWS_PER_PAGE = 100
SHOW_CHOICES = {"all": "All rows", "problems": "With problems", "ready": "Ready", "dropped": "Dropped"}


class UploadForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text="UTF-8, comma or semicolon separated, up to 20 MB. The first row names the columns: Business name "
        "(required), Contact, Email, Phone, Address, Postcode, VAT number, Company number.",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )


def _batch_or_404(member: PracticeMember, batch_id: int) -> ImportBatch:
    try:
        return import_services.import_batch_for_member(member=member, batch_id=batch_id)
    except NotFound:
        raise Http404("No such import") from None


def _preview_url(batch_id: int, request: HttpRequest | None = None) -> str:
    url = reverse("practice:import_preview", args=[batch_id])
    query = request.GET.urlencode() if request is not None else ""
    return f"{url}?{query}" if query else url


@login_required
def import_upload(request: HttpRequest) -> HttpResponse:
    """Step 1: choose a CSV file. A file over 20 MB, or one that is not CSV text, is refused with a reason."""
    member = _member(request)
    try:
        recent = import_services.recent_imports(member=member)  # a restricted staff member does not import: 404
    except NotFound:
        raise Http404("No such page") from None
    form = UploadForm(request.POST or None, request.FILES or None)
    status = 200
    if request.method == "POST":
        if form.is_valid():
            upload = form.cleaned_data["file"]
            try:
                imports.check_upload(name=upload.name, size=upload.size, content_type=upload.content_type or "")
                batch = import_services.import_preview_create(member=member, filename=upload.name, data=upload.read())
            except DomainError as exc:
                form.add_error("file", exc.message)
            else:
                return redirect("practice:import_preview", batch.pk)
        status = 400
    return render(
        request,
        "practice/import.html",
        {"form": form, "member": member, "recent": recent},
        status=status,
    )


def _filtered(rows: list[dict[str, Any]], show: str) -> list[dict[str, Any]]:
    if show == "problems":
        return [r for r in rows if r["problems"] and not r["dropped"]]
    if show == "ready":
        return [r for r in rows if imports.is_ready(r)]
    if show == "dropped":
        return [r for r in rows if r["dropped"]]
    return rows


@login_required
def import_preview(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Step 2: every row with its problems; Fix or Drop rows; Import the rows that are ready."""
    member = _member(request)
    batch = _batch_or_404(member, batch_id)
    show = request.GET.get("show", "all")
    show = show if show in SHOW_CHOICES else "all"
    page = Paginator(_filtered(batch.rows, show), ROWS_PER_PAGE).get_page(request.GET.get("page"))
    for row in page.object_list:  # each problem names its field ("Postcode: Enter a UK postcode ..."); not saved
        for problem in row["problems"]:
            label = imports.FIELD_LABELS.get(problem["field"], "")
            named = not label or problem["message"].startswith((label, detail_label(problem["field"])))
            problem["shown"] = problem["message"] if named else f"{label}: {problem['message']}"
    return render(
        request,
        "practice/import_preview.html",
        {
            "member": member,
            "batch": batch,
            "counts": imports.counts(batch.rows),
            "page": page,
            "show": show,
            "show_choices": SHOW_CHOICES.items(),
            "labels": imports.FIELD_LABELS,
            "query_string": request.GET.urlencode(),
        },
    )


def _row(batch: ImportBatch, index: int) -> dict[str, Any]:
    if not 1 <= index <= len(batch.rows):
        raise Http404("No such row")
    return batch.rows[index - 1]


def _row_form(row: dict[str, Any], data: Any = None) -> ClientDetailsForm:
    """The Add client form holding the row's values, with the row's problems shown as errors."""
    form = ClientDetailsForm(data if data is not None else row["values"])
    form.is_valid()
    for problem in row["problems"]:
        if problem["code"].startswith("duplicate") and problem["message"] not in form.non_field_errors():
            form.add_error(None, problem["message"])
    return form


@login_required
def import_row(request: HttpRequest, batch_id: int, index: int) -> HttpResponse:
    """Fix a row: edit its values; saved and re-validated together with the other rows."""
    member = _member(request)
    batch = _batch_or_404(member, batch_id)
    row = _row(batch, index)
    back = _preview_url(batch.pk, request)
    if batch.status != ImportBatch.Status.DRAFT:
        messages.error(request, import_services.ImportNotDraft.title)
        return redirect(back)
    status = 200
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in imports.FIELDS}
        try:
            row = import_services.import_row_update(member=member, batch_id=batch.pk, index=index, values=values)
        except NotFound:
            raise Http404("No such row") from None
        except DomainError as exc:
            messages.error(request, exc.message)
            return redirect(back)
        if not row["problems"]:
            messages.success(request, f"Row {index} is ready to import.")
            return redirect(f"{back}#row-{index}")
        status = 400
    form = _row_form(row)
    return render(
        request,
        "practice/import_row.html",
        {"member": member, "batch": batch, "row": row, "form": form, "back": back},
        status=status,
    )


@login_required
@require_POST
def import_row_drop(request: HttpRequest, batch_id: int, index: int) -> HttpResponse:
    """Drop a row from the import, or bring a dropped row back."""
    member = _member(request)
    batch = _batch_or_404(member, batch_id)
    dropped = request.POST.get("dropped", "1") != "0"
    try:
        import_services.import_row_drop(member=member, batch_id=batch.pk, index=index, dropped=dropped)
    except NotFound:
        raise Http404("No such row") from None
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, f"Row {index} {'dropped' if dropped else 'restored'}.")
    return redirect(f"{_preview_url(batch.pk, request)}#row-{index}")


@login_required
@require_POST
def import_commit(request: HttpRequest, batch_id: int) -> HttpResponse:
    """Step 3: Import. Only rows that are ready go in; importing again does nothing."""
    member = _member(request)
    batch = _batch_or_404(member, batch_id)
    try:
        result = import_services.import_commit(member=member, batch_id=batch.pk, request=request)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("practice:import_preview", batch.pk)
    if result.already_imported:
        messages.info(request, "This file was already imported.")
    else:
        plural = "s" if result.imported != 1 else ""
        skipped = f" {result.skipped} row{'s' if result.skipped != 1 else ''} not imported." if result.skipped else ""
        messages.success(request, f"{result.imported} client{plural} imported to your Imported tab.{skipped}")
    return redirect(f"{reverse('practice:clients')}?tab=imported")


@login_required
@require_POST
def import_discard(request: HttpRequest, batch_id: int) -> HttpResponse:
    member = _member(request)
    batch = _batch_or_404(member, batch_id)
    try:
        import_services.import_discard(member=member, batch_id=batch.pk)
    except DomainError as exc:
        messages.error(request, exc.message)
        return redirect("practice:import_preview", batch.pk)
    messages.success(request, "Import discarded. Nothing was imported.")
    return redirect("practice:import_upload")
