from django.urls import path

from . import views_cart

app_name = "checkout"

urlpatterns = [
    path("cart/", views_cart.cart_view, name="cart"),
    path("cart/add/", views_cart.cart_add, name="cart_add"),
]
