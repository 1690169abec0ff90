from django.urls import path

from . import views

urlpatterns = [
    path("outbox/", views.outbox, name="outbox"),
    path("outbox/<int:pk>/", views.outbox_message, name="outbox_message"),
]
