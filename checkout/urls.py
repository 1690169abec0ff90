from django.urls import path

from .views import cart, marketing, orders

app_name = "checkout"

urlpatterns = [
    path("cart/", cart.cart_detail, name="cart_detail"),
    path("cart/add/", cart.cart_add, name="cart_add"),
    path("cart/gift-card/", cart.cart_add_gift_card, name="cart_add_gift_card"),
    path("cart/gift-card/remove/", cart.cart_remove_gift_card, name="cart_remove_gift_card"),
    path("cart/gift-code/", cart.cart_gift_code, name="cart_gift_code"),
    path("cart/discount-code/", cart.cart_discount_code, name="cart_discount_code"),
    path("cart/store-credit/", cart.cart_store_credit, name="cart_store_credit"),
    path("checkout/", orders.checkout_start, name="checkout_start"),
    path("orders/<str:number>/", orders.order_detail, name="order_detail"),
    path("orders/<str:number>/status/", orders.order_status, name="order_status"),
    path("orders/<str:number>/pay/", orders.order_pay, name="order_pay"),
    path("cart/back/<str:token>/", marketing.cart_from_email, name="cart_from_email"),
    path("offers/unsubscribe/<str:token>/", marketing.unsubscribe, name="unsubscribe"),
]
