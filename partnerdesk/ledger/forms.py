from __future__ import annotations

from django import forms

from partnerdesk.ledger import values
from partnerdesk.ledger.imports import MAX_FILE_BYTES


class EntryForm(forms.Form):
    date = forms.DateField(
        input_formats=["%Y-%m-%d", "%d/%m/%Y"],
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="e.g. 31/03/2025",
    )
    description = forms.CharField(max_length=values.MAX_DESCRIPTION)
    amount = forms.DecimalField(
        max_digits=12,
        decimal_places=2,
        help_text="In pounds. A positive amount is income, a negative one an expense (e.g. -80.00).",
    )

    def clean_date(self) -> object:
        date = self.cleaned_data["date"]
        problem = values.date_problem(date)
        if problem:
            raise forms.ValidationError(problem[0].upper() + problem[1:] + ".")
        return date

    def clean_description(self) -> str:
        description = values.normalise_description(self.cleaned_data["description"])
        problem = values.description_problem(description)
        if problem:
            raise forms.ValidationError(problem[0].upper() + problem[1:] + ".")
        return description

    def clean_amount(self) -> object:
        amount = self.cleaned_data["amount"]
        problem = values.amount_problem(amount)
        if problem:
            raise forms.ValidationError(problem[0].upper() + problem[1:] + ".")
        return amount


class ImportForm(forms.Form):
    file = forms.FileField(
        label="CSV file",
        help_text=f"UTF-8, up to {MAX_FILE_BYTES // (1024 * 1024)} MB. The first row names the columns date, "
        "description, amount. Dates as YYYY-MM-DD or DD/MM/YYYY; amounts positive for income, negative for "
        "expenses. Every row is imported, or none: a problem is reported with its row number (the header is row 1).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )
