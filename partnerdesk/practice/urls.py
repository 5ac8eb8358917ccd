from django.urls import path

from partnerdesk.practice import connect_views, contact_email_views, import_views, lifecycle_views, staff_views, views

app_name = "practice"
urlpatterns = [
    path("partner/clients/", views.clients, name="clients"),
    path("partner/clients/add/", views.client_add, name="client_add"),
    path("partner/clients/connect/", connect_views.connect_request, name="connect_request"),
    path("partner/clients/visibility/", views.clients_visibility, name="clients_visibility"),
    path("partner/clients/export.csv", views.clients_export, name="clients_export"),
    path("partner/clients/<int:client_id>/delete/", views.client_delete, name="client_delete"),
    path("partner/clients/<int:client_id>/invitation/", views.client_invitation, name="client_invitation"),
    path("partner/clients/<int:client_id>/", views.client_panel, name="client"),
    path("partner/clients/<int:client_id>/details/", views.client_details, name="client_details"),
]
urlpatterns += [
    path("partner/staff/", staff_views.staff, name="staff"),
    path("partner/staff/<int:member_id>/role/", staff_views.member_role, name="staff_role"),
    path("partner/staff/<int:member_id>/visibility/", staff_views.member_visibility, name="staff_visibility"),
    path("partner/staff/<int:member_id>/remove/", staff_views.member_remove, name="staff_remove"),
    path("partner/staff/<int:member_id>/clients/", staff_views.member_clients, name="staff_clients"),
    path(
        "partner/staff/invitations/<int:invitation_id>/resend/",
        staff_views.invitation_resend,
        name="staff_invitation_resend",
    ),
    path(
        "partner/staff/invitations/<int:invitation_id>/revoke/",
        staff_views.invitation_revoke,
        name="staff_invitation_revoke",
    ),
    path("partner/settings/", staff_views.practice_settings, name="settings"),
    path("partner/invitations/<str:token>/", staff_views.invitation, name="invitation"),
]
urlpatterns += [
    path("partner/clients/import/", import_views.import_upload, name="import_upload"),
    path("partner/clients/import/<int:batch_id>/", import_views.import_preview, name="import_preview"),
    path("partner/clients/import/<int:batch_id>/rows/<int:index>/", import_views.import_row, name="import_row"),
    path(
        "partner/clients/import/<int:batch_id>/rows/<int:index>/drop/",
        import_views.import_row_drop,
        name="import_row_drop",
    ),
    path("partner/clients/import/<int:batch_id>/commit/", import_views.import_commit, name="import_commit"),
    path("partner/clients/import/<int:batch_id>/discard/", import_views.import_discard, name="import_discard"),
]
urlpatterns += [
    path("partner/clients/<int:client_id>/give-access/", lifecycle_views.give_access, name="give_access"),
    path("partner/clients/<int:client_id>/give-access/resend/", lifecycle_views.access_resend, name="access_resend"),
    path("partner/clients/<int:client_id>/give-access/cancel/", lifecycle_views.access_cancel, name="access_cancel"),
    path("partner/clients/<int:client_id>/disable/", lifecycle_views.access_disable, name="access_disable"),
    path("partner/clients/<int:client_id>/enable/", lifecycle_views.access_enable, name="access_enable"),
    path("partner/clients/<int:client_id>/stop/", lifecycle_views.stop_managing, name="stop_managing"),
    path("partner/former-clients/", lifecycle_views.former, name="former_clients"),
    path("partner/messages/", views.messages_list, name="messages"),
    path("activate/<str:token>/", lifecycle_views.activate, name="activate"),
    path("partner/contact-email/<str:token>/", contact_email_views.confirm, name="contact_email_confirm"),
]
