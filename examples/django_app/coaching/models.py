"""The one table the host keeps for coachcore: which coachcore user a host user is."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class CoachcoreAccount(models.Model):
    """A host user's coachcore user id. coachcore knows people only by that id;
    the host keeps login, passwords and sessions."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="coachcore"
    )
    coachcore_id = models.CharField(max_length=64, unique=True)

    def __str__(self) -> str:
        return f"{self.user} -> {self.coachcore_id}"
