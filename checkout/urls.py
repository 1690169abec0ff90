from django.urls import path

from . import views, views_cart

app_name = "checkout"

urlpatterns = [
    path("cart/", views_cart.cart_view, name="cart"),
    path("cart/add/", views_cart.cart_add, name="cart_add"),
    path("cart/gift-card/", views_cart.cart_add_gift_card, name="cart_add_gift_card"),
    path("cart/gift-card/remove/", views_cart.cart_gift_card_line, name="cart_remove_gift_card"),
    path("cart/gift-code/", views_cart.cart_gift_code, name="cart_gift_code"),
    path("checkout/", views.checkout_start, name="start"),
    path("orders/<str:number>/", views.order_detail, name="order"),
    path("orders/<str:number>/status/", views.order_status, name="order_status"),
    path("orders/<str:number>/pay/", views.order_pay, name="order_pay"),
]
