"""One statement of a Phase 4 transaction, and the transaction as printed before it runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Step:
    """One statement of a transaction.

    Attributes:
        params: Bound server-side; ``shown`` says what each one is, for the printed SQL.
        expect_rows: The row count the statement must report, or the transaction is rolled back.
        check: Given the statement's rows, a problem (the transaction is rolled back) or None.
        key: Keep the statement's rows in the results under this name.
    """

    sql: str
    params: tuple[Any, ...] = ()
    shown: tuple[str, ...] = ()
    expect_rows: int | None = None
    check: Callable[[list[tuple[Any, ...]]], str | None] | None = field(default=None, compare=False)
    key: str | None = None

    def render(self) -> str:
        text = f"{self.sql};"
        if self.shown:
            text += "\n  -- parameters: " + "; ".join(f"%s #{n} = {v}" for n, v in enumerate(self.shown, 1))
        if self.expect_rows is not None:
            text += f"\n  -- must affect exactly {self.expect_rows} row(s)"
        return text


def render(steps: list[Step]) -> str:
    """The transaction as it will run, parameters described, ``BEGIN`` to ``COMMIT``."""
    return "\n".join(["BEGIN;", *(s.render() for s in steps), "COMMIT;"])
