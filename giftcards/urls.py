from django.urls import path

from . import views

app_name = "giftcards"

urlpatterns = [
    path("gift-cards/", views.buy, name="buy"),
    path("gift-cards/balance/", views.balance, name="balance"),
    path("account/gift-cards/", views.account_list, name="account_list"),
    path("account/gift-cards/<int:card_id>/revoke/", views.account_revoke, name="account_revoke"),
]
