"""Page numbers of a long list: ``?page=`` in, the slice to show and the links out."""

from __future__ import annotations

from dataclasses import dataclass

from watchkeeper.errors import InvalidInput
from watchkeeper.messages import shown

PER_PAGE = 50
MAX_PAGE = 1_000_000


@dataclass(frozen=True)
class Pager:
    """Page ``number`` (from 1) of ``total`` items, ``size`` to a page."""

    number: int
    total: int
    size: int = PER_PAGE

    @property
    def pages(self) -> int:
        """How many pages there are (at least one, even when empty)."""
        return max(1, -(-self.total // self.size))

    @property
    def offset(self) -> int:
        """How many items come before this page."""
        return (self.number - 1) * self.size

    @property
    def previous(self) -> int | None:
        """The previous page's number, None on the first."""
        return self.number - 1 if self.number > 1 else None

    @property
    def next(self) -> int | None:
        """The next page's number, None on the last."""
        return self.number + 1 if self.number < self.pages else None


def page_number(raw: str | None) -> int:
    """A ``?page=`` value: 1 when absent; InvalidInput naming ``page`` unless a whole number
    from 1 (a page past the end shows empty)."""
    if raw is None or raw == "":
        return 1
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 7) or not 1 <= int(raw) <= MAX_PAGE:
        raise InvalidInput(f"page: {shown(raw)} is not a page number (1, 2, 3 ...)")
    return int(raw)
