from django.urls import path

from partnerdesk.ledger import views

app_name = "ledger"
urlpatterns = [
    path("companies/<str:customer_number>/ledger/", views.entry_list, name="entries"),
    path("companies/<str:customer_number>/ledger/add/", views.entry_add, name="entry_add"),
    path("companies/<str:customer_number>/ledger/import/", views.entries_import, name="import"),
]
