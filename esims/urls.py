from django.urls import path

from . import views

app_name = "esims"

urlpatterns = [
    path("roamify/webhook/", views.roamify_webhook, name="roamify_webhook"),
]
