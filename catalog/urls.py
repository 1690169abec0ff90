from django.urls import path, re_path

from . import views

app_name = "catalog"

urlpatterns = [
    path("", views.home, name="home"),
    path("destinations/", views.all_destinations, name="all_destinations"),
    path("search/", views.search, name="search"),
    path("search/suggest/", views.suggest, name="suggest"),
    path("currency/", views.set_currency, name="set_currency"),
    path("esim/<slug:slug>/", views.destination, name="destination"),
    path("esim/<slug:slug>/<str:package_id>/", views.package, name="package"),
    path("devices/", views.device_check, name="device_check"),
    path("devices/<slug:brand>/", views.device_brand, name="device_brand"),
    path("how-it-works/", views.how_it_works, name="how_it_works"),
    re_path(r"^(?P<slug>terms|privacy|refund-policy|contact)/$", views.page, name="page"),
]
