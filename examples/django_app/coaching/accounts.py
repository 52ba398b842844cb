"""Host users <-> coachcore users, by id.

The host authenticates (here Django's auth and sessions); coachcore authorises:
every call a view makes goes through ``core.acting_as(coachcore_id)``, whose
policies check that person's permissions and ownership.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.http import HttpRequest

import coachcore

from .core import get_core
from .middleware import Unauthenticated
from .models import CoachcoreAccount


def link(user: AbstractBaseUser, coachcore_id: str) -> CoachcoreAccount:
    """Record that the host user ``user`` is the coachcore user ``coachcore_id``."""
    account, _ = CoachcoreAccount.objects.update_or_create(
        user=user, defaults={"coachcore_id": coachcore_id}
    )
    return account


def coachcore_id(user: AbstractBaseUser | AnonymousUser) -> str:
    """The coachcore id of an authenticated host user; 401 otherwise."""
    if not user.is_authenticated:
        raise Unauthenticated("Log in first (authentication is the host's job)")
    account: Any = CoachcoreAccount.objects.filter(user=user).first()
    if account is None:
        raise Unauthenticated("This login has no coaching account")
    return str(account.coachcore_id)


def scope(request: HttpRequest) -> coachcore.Scope:
    """The caller's coachcore scope: every call through it is checked by policies."""
    return get_core().acting_as(coachcore_id(request.user))
