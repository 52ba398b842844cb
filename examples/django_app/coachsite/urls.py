"""The host's URLs: coachcore's API under /api/; unknown routes answer in the error format."""

from django.urls import include, path

urlpatterns = [path("api/", include("coaching.urls"))]

handler400 = "coaching.middleware.bad_request"
handler403 = "coaching.middleware.forbidden"
handler404 = "coaching.middleware.not_found"
handler500 = "coaching.middleware.server_error"
