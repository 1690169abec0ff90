from django.urls import path

from . import views

app_name = "discounts"

urlpatterns = [
    path("r/<str:code>/", views.share_link, name="share_link"),
]
