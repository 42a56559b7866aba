from django.urls import path

from . import views

app_name = "web"

urlpatterns = [
    path("", views.evaluation_list, name="home"),
    path("evaluations/", views.evaluation_list, name="evaluations"),
    path("evaluations/<int:pk>/", views.evaluation_detail, name="evaluation"),
]
