"""``coachcore keys``: encryption keys of the sensitive fields."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore.cli.common import KEYS_ENV, UrlOption, console
from coachcore.errors import KeyMissing

app = typer.Typer(help="Encryption keys of the sensitive fields.", no_args_is_help=True)
KeysOption = Annotated[
    str | None,
    typer.Option(
        "--keys",
        help="Encryption keys, newest first, comma-separated (default: $COACHCORE_KEYS)",
        envvar=KEYS_ENV,
        show_envvar=True,
    ),
]


@app.command("generate")
def keys_generate() -> None:
    """Print a new random encryption key (keep it in your secret store)."""
    from coachcore.adapters.crypto import FernetCipher

    typer.echo(FernetCipher.generate_key())


@app.command("rotate")
def keys_rotate(url: UrlOption, keys: KeysOption = None, batch: int = 500) -> None:
    """Re-encrypt every sensitive field with the newest key (the first one).

    Also encrypts values stored in plain text before encryption was turned on.
    Runs in short batches while the application keeps working.
    """
    from coachcore.adapters.crypto import FernetCipher
    from coachcore.adapters.sqlalchemy import SqlStore

    if not keys:
        raise KeyMissing(f"Give the keys, newest first, with --keys or ${KEYS_ENV}")
    store = SqlStore.from_url(url, cipher=FernetCipher(keys))
    try:
        with console.status("re-encrypting..."):
            report = store.rotate_keys(batch=batch)
    finally:
        store.close()
    console.print(
        f"re-encrypted: {report.rotated}, newly encrypted: {report.encrypted}, "
        f"rows rewritten: {report.rows}"
    )
