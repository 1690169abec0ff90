"""The account area (/account/, owner only) and the signed-link pages (no sign-in).

Every pattern in `account_patterns` is covered by the privacy test, which loops over them.
"""

from django.urls import include, path

from . import views

app_name = "accounts"

account_patterns = [
    path("", views.esim_list, name="esim_list"),
    path("esims/<int:pk>/", views.esim_detail, name="esim_detail"),
    path("esims/<int:pk>/usage/", views.esim_usage, name="esim_usage"),
    path("esims/<int:pk>/refresh/", views.esim_refresh, name="esim_refresh"),
    path("esims/<int:pk>/top-up/", views.esim_topup, name="esim_topup"),
    path("esims/<int:pk>/share/", views.esim_share, name="esim_share"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/<str:number>/receipt/", views.order_receipt, name="order_receipt"),
    path("settings/", views.account_settings, name="account_settings"),
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
