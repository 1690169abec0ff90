from django.urls import path

from . import views

app_name = "payments"

urlpatterns = [
    # The path Stripe's dashboard (and the sandbox) is configured with.
    path("checkout/stripe/webhook/", views.stripe_webhook, name="stripe_webhook"),
]
