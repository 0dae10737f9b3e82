from django.urls import path

from apps.notifications import views

urlpatterns = [
    path("", views.notification_centre, name="notification_centre"),
    path("read/", views.mark_read, name="notifications_mark_read"),
    path("preferences/", views.preferences, name="notification_preferences"),
]
