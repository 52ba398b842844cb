"""``coachcore audit purge`` on a SQLite file: a dry run counts, a run deletes
what is older than the period with a progress bar and logs itself once, a
refused period is one line on stderr without a progress bar."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

import coachcore
from coachcore.cli import app
from coachcore.domain.audit import AuditEntry


def entry(eid: str, created: datetime) -> AuditEntry:
    return AuditEntry(
        id=eid,
        actor_id="someone",
        action="x.done",
        entity_type="x",
        entity_id=eid,
        details={},
        created_at=created,
    )


def with_entries(tmp_path: Path, *entries: AuditEntry) -> str:
    url = f"sqlite:///{tmp_path / 'coaching.db'}"
    with coachcore.open(url) as core, core.store.unit_of_work(write=True) as uow:
        for item in entries:
            uow.audit.add(item)
        uow.commit()
    return url


def stored(url: str) -> dict[str, AuditEntry]:
    with coachcore.open(url) as core, core.store.unit_of_work(write=False) as uow:
        return {e.id: e for e in uow.audit.list()}


def test_operators_purge_old_audit_entries_and_can_count_them_first(tmp_path: Path) -> None:
    now = datetime.now(UTC)  # the CLI's clock is real
    old = [entry(f"old-{n}", now - timedelta(days=366 + n)) for n in range(4)]
    recent = [entry("recent", now - timedelta(days=364)), entry("today", now)]
    url = with_entries(tmp_path, *old, *recent)
    runner = CliRunner()
    counted = runner.invoke(app, ["audit", "purge", "--url", url, "--days", "365", "--dry-run"])
    assert counted.exit_code == 0, counted.output
    assert "would delete: 4" in counted.stdout
    assert set(stored(url)) == {e.id for e in [*old, *recent]}  # the dry run changed nothing
    purged = runner.invoke(app, ["audit", "purge", "--url", url, "--days", "365"])
    assert purged.exit_code == 0, purged.output
    assert "4 done" in purged.stdout and "audit entries purged: 4" in purged.stdout
    after = stored(url)
    runs = [e for e in after.values() if e.action == "audit.purge"]
    assert [(r.actor_id, r.details["count"], r.details["days"]) for r in runs] == [
        ("system", 4, 365)
    ]
    assert set(after) == {e.id for e in recent} | {runs[0].id}
    again = runner.invoke(app, ["audit", "purge", "--url", url, "--days", "365"])
    assert "audit entries purged: 0" in again.stdout


def test_a_refused_period_is_one_line_without_a_progress_bar(tmp_path: Path) -> None:
    url = with_entries(tmp_path, entry("old", datetime.now(UTC) - timedelta(days=9)))
    runner = CliRunner()
    for command in (["--days", "0"], ["--days", "0", "--dry-run"]):
        refused = runner.invoke(app, ["audit", "purge", "--url", url, *command])
        assert refused.exit_code == 1 and refused.stdout == ""
        assert refused.stderr.startswith("Bad Request: days: must be at least 1: the denied")
        assert len(refused.stderr.strip().splitlines()) == 1
    no_days = runner.invoke(app, ["audit", "purge", "--url", url])
    assert no_days.exit_code == 2 and "--days" in no_days.stderr
    assert set(stored(url)) == {"old"}
