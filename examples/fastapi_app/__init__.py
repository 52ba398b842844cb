"""An example FastAPI host for coachcore (see README.md beside this file)."""

from .app import create_app, current_user_id
from .hub import SlotHub

__all__ = ["SlotHub", "create_app", "current_user_id"]
