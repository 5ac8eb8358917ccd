from __future__ import annotations

from django import forms

from partnerdesk.compliance.models import Submission
from partnerdesk.compliance.services import MAX_REFERENCE

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]


class PeriodForm(forms.Form):
    period_start = forms.DateField(
        label="Period start", input_formats=DATE_FORMATS, widget=forms.DateInput(attrs={"type": "date"})
    )
    period_end = forms.DateField(
        label="Period end",
        input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="The last day of the period, e.g. 31/03/2025. At most 18 months after the start.",
    )


class SubmissionForm(forms.Form):
    kind = forms.ChoiceField(label="What was submitted", choices=Submission.Kind.choices)
    reference = forms.CharField(
        max_length=MAX_REFERENCE, help_text="The receipt or submission reference you were given."
    )
    submitted_at = forms.DateTimeField(
        label="Submitted on",
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M", "%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        help_text="UK time.",
    )
