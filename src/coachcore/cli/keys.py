"""``coachcore keys``: encryption keys of the sensitive fields."""

from __future__ import annotations

from typing import Annotated

import typer

from coachcore.cli.common import KEYS_ENV, UrlOption, console, existing, sql_url
from coachcore.cli.progress import counting
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
    from coachcore.adapters.crypto import AesGcmCipher

    typer.echo(AesGcmCipher.generate_key())


@app.command("rotate")
def keys_rotate(url: UrlOption, keys: KeysOption = None, batch: int = 500) -> None:
    """Re-seal every sensitive field with the newest key (the first one), as AES-256-GCM.

    Also moves values of earlier formats (Fernet, or not bound to their row
    and column) to the newest one, seals values stored in plain text before
    keys were turned on, and recomputes the blind indexes of e-mail addresses.
    Runs in short batches while the application keeps working.
    """
    from coachcore.adapters.crypto import AesGcmCipher
    from coachcore.adapters.sqlalchemy import SqlStore

    if not keys:
        raise KeyMissing(f"Give the keys, newest first, with --keys or ${KEYS_ENV}")
    sql_url(url)
    store = SqlStore.from_url(existing(url), cipher=AesGcmCipher(keys))
    try:
        with counting("rows re-sealed") as advance:
            report = store.rotate_keys(batch=batch, progress=advance)
    finally:
        store.close()
    console.print(
        f"re-sealed under the newest key: {report.rotated}, moved from earlier formats: "
        f"{report.upgraded}, newly sealed: {report.encrypted}, blind indexes: "
        f"{report.reindexed}, rows rewritten: {report.rows}"
    )
