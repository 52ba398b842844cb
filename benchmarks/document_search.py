"""Document search over 10,000 documents: full-text index vs opening and scanning.

Stores 10,000 documents (title, description, ~300 words of text drawn from a
Zipf-like vocabulary, seeded) in each store through its documents
repository, then runs the same searches through ``documents.search`` (the
declared query every ``documents.list(search=...)`` goes through):

- memory: a scan in Python (the reference);
- SQLite file without keys: the FTS5 index; with keys: open and scan;
- PostgreSQL without keys: the GIN index; with keys: open and scan
  (a throwaway server from the machine's PostgreSQL binaries; skipped with
  the reason when they are missing; ``--no-postgres`` skips it).

Prints searches per second (best of ``--repeat`` rounds, CPU and wall time),
the ratio of each store to the memory scan and of each indexed store to the
same database opened and scanned, and checks that every store finds the same
documents. Not a timed test; run it as
``python benchmarks/document_search.py`` (``--quick``: 1,000 documents).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from coachcore.adapters.crypto import AesGcmCipher
from coachcore.adapters.memory.store import MemoryStore
from coachcore.adapters.sqlalchemy import SqlStore
from coachcore.domain.documents import Document
from coachcore.domain.entities import User

T0 = datetime(2030, 1, 1, tzinfo=UTC)
KEY = AesGcmCipher.generate_key()
Search = Callable[[list[str]], list[str]]


def vocabulary(rng: random.Random, size: int) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))] = None
    return list(words)


def documents(count: int, seed: int = 7) -> tuple[list[Document], dict[str, list[str]]]:
    """The documents, and the searches: common, middling and rare words, a
    two-word phrase, a prefix, and a word no document holds."""
    rng = random.Random(seed)
    words = vocabulary(rng, 5_000)
    weights = [1 / (rank + 1) for rank in range(len(words))]
    made = []
    for n in range(count):
        text = rng.choices(words, weights, k=300)
        made.append(
            Document(
                id=f"doc-{n:06d}",
                owner_id="owner",
                member_id=None,
                title=" ".join(rng.choices(words, weights, k=4)),
                description=" ".join(rng.choices(words, weights, k=8)),
                filename=f"{n}.txt",
                content_type="text/plain",
                size_bytes=1,
                sha256="0" * 64,
                extracted_text=" ".join(text),
                created_at=T0 + timedelta(seconds=n),
                updated_at=T0,
            )
        )
    phrase = made[count // 2].extracted_text.split()[100:102]
    searches = {
        "common word": [words[3]],
        "middling word": [words[300]],
        "rare word": [words[4_000]],
        "two-word phrase": phrase,
        "prefix": [words[150][:3]],
        "no match": ["zzzzzzzzzz"],
    }
    return made, searches


def fill(store: Any, made: Sequence[Document]) -> None:
    with store.unit_of_work(write=True) as uow:
        uow.users.add(
            User(
                id="owner",
                name="O",
                email="o@example.com",
                role="coach",
                created_at=T0,
                updated_at=T0,
            )
        )
        uow.commit()
    for first in range(0, len(made), 500):
        with store.unit_of_work(write=True) as uow:
            for document in made[first : first + 500]:
                uow.documents.add(document)
            uow.commit()


def searcher(store: Any) -> Search:
    def run(words: list[str]) -> list[str]:
        with store.unit_of_work(write=False) as uow:
            return [d.id for d in uow.documents.search(words)]

    return run


def timed(search: Search, words: list[str], repeat: int) -> float:
    """Milliseconds of one search (wall), best of ``repeat`` rounds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        search(words)
        best = min(best, time.perf_counter() - started)
    return best * 1000


@contextmanager
def postgres(skip: bool) -> Iterator[tuple[str | None, str | None]]:
    if skip:
        yield None, "--no-postgres"
        return
    from coachcore.testing.pgserver import ThrowawayPostgres, find_pg_bin

    if find_pg_bin() is None:
        yield None, "PostgreSQL binaries (initdb, pg_ctl) not found"
        return
    try:
        server = ThrowawayPostgres(dbname="coachcore_search_bench").start()
    except RuntimeError as exc:
        yield None, f"the throwaway server did not start: {str(exc).splitlines()[0]}"
        return
    try:
        yield server.url, None
    finally:
        server.stop()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="1,000 documents, one round")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args(argv)
    count, repeat = (1_000, 1) if args.quick else (args.documents, args.repeat)
    made, queries = documents(count)
    print(
        f"python {sys.version.split()[0]}, {count:,} documents, {len(queries)} searches per round"
    )
    cipher = AesGcmCipher([KEY])
    results: dict[str, dict[str, float]] = {}
    answers: dict[str, dict[str, list[str]]] = {}

    def measure(name: str, store: Any) -> None:
        started = time.perf_counter()
        fill(store, made)
        filled = time.perf_counter() - started
        search = searcher(store)
        answers[name] = {label: search(words) for label, words in queries.items()}
        results[name] = {label: timed(search, w, repeat) for label, w in queries.items()}
        print(f"  {name}: stored in {filled:.1f} s")

    with TemporaryDirectory() as tmp:
        measure("memory scan", MemoryStore())
        for sealed in (False, True):
            url = f"sqlite:///{Path(tmp) / f'search-{sealed}.db'}"
            store = SqlStore.from_url(url, cipher=cipher if sealed else None)
            measure("sqlite sealed scan" if sealed else "sqlite FTS5", store)
            store.close()
        with postgres(args.no_postgres) as (pg_url, why):
            if pg_url is None:
                print(f"  postgresql skipped: {why}")
            else:
                for sealed in (False, True):
                    store = SqlStore.from_url(pg_url, cipher=cipher if sealed else None)
                    measure("postgresql sealed scan" if sealed else "postgresql GIN", store)
                    with store.unit_of_work(write=True) as uow:  # the next round starts empty
                        for document in made:
                            uow.documents.delete(document.id)
                        uow.users.delete("owner")
                        uow.commit()
                    store.close()
    reference = answers["memory scan"]
    same = all(found == reference for found in answers.values())
    names = list(results)
    print("milliseconds per search (wall, best of the rounds):")
    print(f"  {'search':<16} {'hits':>6} " + " ".join(f"{n:>22}" for n in names))
    for label in queries:
        row = " ".join(f"{results[n][label]:>22,.1f}" for n in names)
        print(f"  {label:<16} {len(reference[label]):>6,} {row}")
    total = {n: sum(results[n].values()) for n in names}
    print(f"  {'all searches':<16} {'':>6} " + " ".join(f"{total[n]:>22,.1f}" for n in names))
    print(f"every store found the same documents: {'yes' if same else 'NO'}")
    print("ratios (time of all searches):")
    for name in names[1:]:
        print(f"  {name}: x{total['memory scan'] / total[name]:,.2f} the speed of the memory scan")
    for db, index in (("sqlite", "sqlite FTS5"), ("postgresql", "postgresql GIN")):
        opened = f"{db} sealed scan"
        if index in total and opened in total:
            each = ", ".join(
                f"{label} x{results[opened][label] / results[index][label]:,.1f}"
                for label in queries
            )
            print(
                f"  {db}: the index is x{total[opened] / total[index]:,.1f} the speed of "
                f"open-and-scan ({each})"
            )
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
