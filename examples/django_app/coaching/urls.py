from django.urls import path

from . import views

urlpatterns = [
    path("me", views.me),
    path("coaches/<str:coach_id>/slots", views.slots),
    path("bookings", views.bookings),
    path("bookings/<str:booking_id>", views.booking),
    path("sessions", views.sessions),
    path("sessions/upcoming", views.upcoming),
    path("sessions/<str:session_id>", views.session),
    path("sessions/<str:session_id>/complete", views.complete),
    path("sessions/<str:session_id>/cancel", views.cancel_session),
    path("sessions/<str:session_id>/rate", views.rate),
    path("dashboards/member", views.member_dashboard),
    path("dashboards/coach", views.coach_dashboard),
]
