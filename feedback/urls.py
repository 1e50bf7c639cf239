from django.urls import path

from feedback import views

app_name = "feedback"
urlpatterns = [
    path("s/<str:token>/", views.answer, name="answer"),
    path("", views.tickets, name="tickets"),
    path("tickets/<int:pk>/", views.ticket, name="ticket"),
]
