from django.urls import path

from partnerdesk.identity import views

app_name = "identity"
urlpatterns = [
    path("signin/", views.signin, name="signin"),
    path("products/<slug:product>/", views.product_home, name="product_home"),
    path("account/link/", views.link_subscription, name="link_subscription"),
    path("account/security/", views.security, name="security"),
    path("account/api-tokens/", views.api_tokens, name="api_tokens"),
    path("account/api-tokens/<int:token_id>/revoke/", views.api_token_revoke, name="api_token_revoke"),
]
