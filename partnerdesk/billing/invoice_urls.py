from django.urls import path

from partnerdesk.billing import invoice_views

# The company list itself is identity:company_invoices (the portal's tab), served by invoice_views too.
app_name = "invoices"
urlpatterns = [
    path("partner/invoices/", invoice_views.practice_invoice_list, name="practice_list"),
    path("partner/invoices/<str:number>/", invoice_views.practice_invoice_detail, name="practice_detail"),
    path("partner/invoices/<str:number>/print/", invoice_views.practice_invoice_print, name="practice_print"),
    path("partner/invoices/<str:number>/export.csv", invoice_views.practice_invoice_export, name="practice_export"),
    path("partner/invoices/<str:number>/invoice.pdf", invoice_views.practice_invoice_pdf, name="practice_pdf"),
    path(
        "companies/<str:customer_number>/invoices/<str:number>/",
        invoice_views.company_invoice_detail,
        name="company_detail",
    ),
    path(
        "companies/<str:customer_number>/invoices/<str:number>/print/",
        invoice_views.company_invoice_print,
        name="company_print",
    ),
    path(
        "companies/<str:customer_number>/invoices/<str:number>/invoice.pdf",
        invoice_views.company_invoice_pdf,
        name="company_pdf",
    ),
    path(
        "companies/<str:customer_number>/invoices/<str:number>/export.csv",
        invoice_views.company_invoice_export,
        name="company_export",
    ),
]
