"""Every error leaves as ``{statusCode, message, error, details}``, like coachcore's own."""

from __future__ import annotations

import json
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse

from coachcore.errors import CoachCoreError


def error_response(status: int, message: str, details: Any = None) -> JsonResponse:
    body = {
        "statusCode": status,
        "message": message,
        "error": HTTPStatus(status).phrase,
        "details": details,
    }
    return JsonResponse(body, status=status)


class Unauthenticated(CoachCoreError):
    """The host's authentication found nobody (or nobody with a coachcore account)."""

    status_code = 401
    error = "Unauthorized"


class CoachcoreErrors:
    """Turns coachcore errors raised by views into JSON responses with their status."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exc: Exception) -> HttpResponse | None:
        if isinstance(exc, CoachCoreError):
            return JsonResponse(exc.to_dict(), status=exc.status_code)
        if isinstance(exc, json.JSONDecodeError):
            return error_response(400, "The request body is not valid JSON")
        return None  # Django's handler500 answers, in the same format


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(400, "The request is malformed")


def forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(403, "Forbidden")


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return error_response(404, f"No route for {request.method} {request.path}")


def server_error(request: HttpRequest) -> HttpResponse:
    return error_response(500, "Something went wrong on our side")
