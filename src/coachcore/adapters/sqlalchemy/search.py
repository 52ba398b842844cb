"""Document search in the SQL stores: the database's own full-text index.

Where documents are not sealed (the store has no keys), a search is one
indexed query. On PostgreSQL: a GIN index over the stored generated column
``search_vector`` (``to_tsvector('simple', ...)`` of the title, description
and extracted text; NULL where the title is ciphertext), whose rows found
are checked for the phrase when the search has several words. On SQLite: an
FTS5 table ``<prefix>document_search`` kept by triggers (rows with a sealed
title stay out of it), which answers the phrase query itself. Both come
with migration 0010. Where documents are sealed, an index could only hold
ciphertext: the rows the filters select are opened and scanned in Python,
like the memory store does (see ``docs/guides/documents.md`` for the cost).
Every store answers as :func:`coachcore.domain.documents.matches` says.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from coachcore.adapters.sqlalchemy.repository import SqlRepository
from coachcore.domain.documents import Document, matches

SEARCH_TABLE = "document_search"
"""The SQLite FTS5 table's name after the prefix."""
SEARCH_INDEX = "documents_search"
"""The PostgreSQL GIN index's name after ``ix_<prefix>``."""
SEARCH_COLUMN = "search_vector"
"""The PostgreSQL-only generated tsvector column (not in ``build_tables``)."""
TEXT_COLUMNS = "{title description extracted_text}"


def merge_search_index(conn: sa.Connection, prefix: str) -> None:
    """Rewrite the SQLite FTS5 index in one piece ('optimize'), so the words of
    deleted or changed documents leave it: FTS5 otherwise keeps them in older
    segments behind delete markers. Run after an erasure; costs a rewrite of
    the whole index. Nothing happens where the table does not exist."""
    name = f"{prefix}{SEARCH_TABLE}"
    if sa.inspect(conn).has_table(name):
        conn.exec_driver_sql(f'INSERT INTO "{name}" ("{name}") VALUES (\'optimize\')')


def fts_query(words: Sequence[str]) -> str:
    """An FTS5 query: the words as a phrase within one text column, the last
    one a prefix (exactly :func:`~coachcore.domain.documents.matches`)."""
    return TEXT_COLUMNS + ' : "' + " ".join(words) + '"*'


def ts_query(words: Sequence[str]) -> str:
    """A PostgreSQL tsquery: every word as a prefix."""
    return " & ".join(f"{w}:*" for w in words)


class Documents(SqlRepository[Document]):
    def search(
        self,
        words: Sequence[str],
        *,
        member_id: str | None = None,
        owner_id: str | None = None,
        organization_id: str | None = None,
    ) -> Sequence[Document]:
        wanted = list(words)
        if not wanted:
            return []
        given = {"member_id": member_id, "owner_id": owner_id, "organization_id": organization_id}
        params: dict[str, Any] = {k: v for k, v in given.items() if v is not None}
        if self._sealer.cipher is not None:  # the index holds no plain text: open and scan
            return [d for d in self.list(**params) if matches(d, wanted)]
        equal = tuple(sorted(params))
        if self._db.postgresql:
            params["query_"] = ts_query(wanted)
            build = lambda: self._pg_search(equal)  # noqa: E731
        else:
            params["query_"] = fts_query(wanted)
            build = lambda: self._fts_search(equal)  # noqa: E731
        stmt = self._stmt(("search", equal), build)
        found = self._load_all(self._db.rows(stmt, params))
        if self._db.postgresql and len(wanted) > 1:  # the GIN query narrows; the phrase decides
            return [d for d in found if matches(d, wanted)]
        return found

    def _pg_search(self, equal: tuple[str, ...]) -> Any:
        vector: sa.ColumnElement[Any] = sa.literal_column(f"{self._t.name}.{SEARCH_COLUMN}")
        query = sa.func.to_tsquery(sa.literal_column("'simple'::regconfig"), sa.bindparam("query_"))
        where = [vector.bool_op("@@")(query)]
        return self._select(equal, self.described.order, where)

    def _fts_search(self, equal: tuple[str, ...]) -> Any:
        name = f"{self._tables.prefix}{SEARCH_TABLE}"
        fts = sa.table(name, sa.column("document_id"))
        found = sa.select(fts.c.document_id).where(
            sa.literal_column(f'"{name}"').op("MATCH")(sa.bindparam("query_"))
        )
        return self._select(equal, self.described.order, [self._t.c.id.in_(found)])
