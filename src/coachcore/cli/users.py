"""``coachcore users list`` and ``coachcore coaches list``: who is in the database, by id."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore import Role
from coachcore.cli.common import DEMO_URL, DemoUrlOption, console, existing, table
from coachcore.cli.demo import open_demo

users_app = typer.Typer(help="Users of the database, with their ids.", no_args_is_help=True)
coaches_app = typer.Typer(help="Coaches of the database, with their ids.", no_args_is_help=True)
RoleOption = Annotated[
    str | None, typer.Option("--role", help="Only users of this role (member, coach, admin)")
]


@users_app.command("list")
def users_list(url: DemoUrlOption = DEMO_URL, role: RoleOption = None) -> None:
    """List users (id, name, email, role, time zone), oldest first."""
    with open_demo(existing(url)) as core:
        found = core.system.users.list(role=role)
    rows = [[u.id, u.name, u.email, u.role, u.timezone] for u in found]
    console.print(table("Users", ["id", "name", "email", "role", "time zone"], rows))


@coaches_app.command("list")
def coaches_list(url: DemoUrlOption = DEMO_URL) -> None:
    """List coaches (id, name, email, time zone), oldest first."""
    with open_demo(existing(url)) as core:
        found = core.system.users.list(role=Role.COACH)
    rows = [[u.id, u.name, u.email, u.timezone] for u in found]
    console.print(table("Coaches", ["id", "name", "email", "time zone"], rows))
