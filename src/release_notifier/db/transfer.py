"""Copy a whole database into an empty one (SQLite to PostgreSQL is the reason): every table in
one transaction, checked row for row before it commits."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Any

from sqlalchemy import Connection, Integer, Row, Table, func, inspect, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from release_notifier.db.models import Base
from release_notifier.db.session import Database, database_error_text, open_database

logger = logging.getLogger(__name__)

BATCH_ROWS = 1000
ALEMBIC_TABLE = "alembic_version"


class TransferError(Exception):
    """The copy cannot start, or failed and was rolled back; the message fits on one line."""


@dataclass
class TableCopy:
    name: str
    rows: int


@dataclass
class CopyReport:
    tables: list[TableCopy] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return sum(table.rows for table in self.tables)


def shown(url: str) -> str:
    """A database URL fit for a message: its password hidden."""
    return make_url(url).render_as_string(hide_password=True)


def copy_database(source_url: str, target_url: str) -> CopyReport:
    """Copy every table of `source_url` into `target_url`, whose tables must be absent or
    empty. Both are first brought to the newest schema; the rows go in one transaction that
    commits only when both sides compare equal, row for row."""
    if make_url(source_url) == make_url(target_url):
        raise TransferError("the source and the target are the same database")
    refuse_foreign_tables(target_url)
    source = open_database(source_url)
    target = open_database(target_url)
    try:
        refuse_rows(target)
        with source.engine.connect() as reader, target.engine.begin() as writer:
            return copy_and_check(reader, writer)
    finally:
        source.dispose()
        target.dispose()


def copy_and_check(reader: Connection, writer: Connection) -> CopyReport:
    """Every table, parents before children; then each compared; raising rolls `writer` back."""
    tables = Base.metadata.sorted_tables
    report = CopyReport()
    for table in tables:
        try:
            report.tables.append(TableCopy(table.name, copy_table(reader, writer, table)))
        except SQLAlchemyError as exc:
            raise TransferError(
                f"copying {table.name} failed, nothing was kept: {database_error_text(exc)}"
            ) from None
    if writer.dialect.name == "postgresql":
        advance_sequences(writer, tables)
    for table in tables:
        check_table(reader, writer, table)
    return report


def refuse_foreign_tables(target_url: str) -> None:
    """The target may hold this app's tables (empty) but nothing else: it is not ours to fill."""
    probe = Database(target_url)
    try:
        present = set(inspect(probe.engine).get_table_names())
    finally:
        probe.dispose()
    ours = {table.name for table in Base.metadata.sorted_tables} | {ALEMBIC_TABLE}
    foreign = sorted(present - ours)
    if foreign:
        raise TransferError(
            f"{shown(target_url)} is not empty: it has other tables ({', '.join(foreign[:5])}); "
            "copy into an empty database"
        )


def refuse_rows(target: Database) -> None:
    """Every one of our tables in the target is empty."""
    with target.engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            count = connection.execute(select(func.count()).select_from(table)).scalar_one()
            if count:
                rows = "1 row" if count == 1 else f"{count} rows"
                raise TransferError(
                    f"{shown(target.url)} is not empty: {table.name} has {rows}; "
                    "copy into an empty database"
                )


def ordered_rows(connection: Connection, table: Table) -> Iterator[Row[Any]]:
    """Every row of `table` in primary-key order, read a batch at a time."""
    query = select(table).order_by(*table.primary_key.columns)
    result = connection.execution_options(yield_per=BATCH_ROWS).execute(query)
    for batch in result.partitions():
        yield from batch


def copy_table(reader: Connection, writer: Connection, table: Table) -> int:
    """Insert every row of `table` read through `reader`, through `writer`; returns how many."""
    copied, batch = 0, []
    for row in ordered_rows(reader, table):
        batch.append(dict(row._mapping))
        if len(batch) == BATCH_ROWS:
            writer.execute(table.insert(), batch)
            copied, batch = copied + len(batch), []
    if batch:
        writer.execute(table.insert(), batch)
        copied += len(batch)
    logger.debug("copied %s: %d rows", table.name, copied)
    return copied


def advance_sequences(writer: Connection, tables: Sequence[Table]) -> None:
    """Rows came with their ids: move each id sequence past the largest, so new rows fit."""
    for table in tables:
        key = list(table.primary_key.columns)
        if len(key) != 1 or not isinstance(key[0].type, Integer):
            continue
        column = key[0].name
        sequence = writer.execute(
            text("SELECT pg_get_serial_sequence(:table, :column)"),
            {"table": table.name, "column": column},
        ).scalar()
        if sequence:
            following = writer.execute(select(func.coalesce(func.max(key[0]), 0) + 1)).scalar_one()
            writer.execute(
                text("SELECT setval(:sequence, :value, false)"),
                {"sequence": sequence, "value": following},
            )


def check_table(reader: Connection, checker: Connection, table: Table) -> None:
    """Both sides hold the same rows, value for value, in primary-key order."""
    pairs = zip_longest(ordered_rows(reader, table), ordered_rows(checker, table))
    for number, (original, copy) in enumerate(pairs, start=1):
        if original is None or copy is None or tuple(original) != tuple(copy):
            raise TransferError(
                f"check failed: row {number} of {table.name} differs in the copy; nothing was kept"
            )
