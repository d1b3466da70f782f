from django.urls import path

from . import views

app_name = "neighbourhoods"

urlpatterns = [
    path("", views.find, name="find"),
]
