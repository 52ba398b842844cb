"""Entry point of the ``coachcore`` script.

The command line lives in :mod:`coachcore.cli` and needs the ``cli`` extra
(typer, rich); without it the script says what to install instead of
printing an import traceback.
"""

from __future__ import annotations

import importlib
import sys

CLI_EXTRA_HINT = 'The coachcore command needs the CLI extra: pip install "coachcore[cli]"'


def main() -> None:
    """Run the command line, or explain on stderr which extra is missing (exit 1)."""
    try:
        cli = importlib.import_module("coachcore.cli")
    except ModuleNotFoundError as exc:
        if exc.name not in {"typer", "rich", "click"}:
            raise
        print(f"{CLI_EXTRA_HINT} (missing: {exc.name})", file=sys.stderr)
        raise SystemExit(1) from exc
    cli.main()
