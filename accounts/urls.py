"""The account area (/account/, owner only) and the signed-link pages (no sign-in).

Every pattern in `account_patterns` is covered by the privacy test, which loops over them.
"""

from django.urls import include, path

from . import auto_topup_views, cards_views, credit_views, views

app_name = "accounts"

account_patterns = [
    path("", views.esim_list, name="esim_list"),
    path("esims/<int:pk>/", views.esim_detail, name="esim_detail"),
    path("esims/<int:pk>/usage/", views.esim_usage, name="esim_usage"),
    path("esims/<int:pk>/refresh/", views.esim_refresh, name="esim_refresh"),
    path("esims/<int:pk>/top-up/", views.esim_topup, name="esim_topup"),
    path("esims/<int:pk>/share/", views.esim_share, name="esim_share"),
    path("esims/<int:pk>/auto-top-up/", auto_topup_views.auto_topup_on, name="auto_topup_on"),
    path("esims/<int:pk>/auto-top-up/off/", auto_topup_views.auto_topup_off, name="auto_topup_off"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/receipt/", views.order_receipt, name="order_receipt"),
    path("orders/<str:number>/open/", views.order_open, name="order_open"),
    path("settings/", views.account_settings, name="account_settings"),
    path("settings/offers/", views.account_offers, name="account_offers"),
    path("credit/", credit_views.store_credit, name="store_credit"),
    path("cards/", cards_views.card_list, name="card_list"),
    path("cards/remove/", cards_views.card_remove, name="card_remove"),
    path("top-up/one-tap/", cards_views.one_tap_topup, name="one_tap_topup"),
    path("delete/", views.delete_account, name="delete_account"),
]

signed_patterns = [
    path("esim/top-up/<str:token>/", views.signed_topups, name="signed_topups"),
    path("esim/install/<str:token>/", views.shared_install, name="shared_install"),
]

urlpatterns = [
    path("account/", include(account_patterns)),
    *signed_patterns,
]
