"""Tables of the built-in SLI event store: the SLI registry and bucketed counts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from watchkeeper.db import Base, UTCDateTime


class SLIRecord(Base):
    """One way the event store counts an SLI's rows; event rows name ``source_name``.

    ``kind`` is ``counts`` (rows carry good/total) or ``observations`` (rows carry ``value``,
    turned into good/total at ingest with ``operator``/``threshold``). ``name`` is the
    record's unique key (core ``SLI.store_key``): a stream of values judged against two
    thresholds has two records with the same ``source_name``, and each value row counts in
    both.
    """

    __tablename__ = "sli"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(300), unique=True)
    source_name: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    threshold: Mapped[float | None] = mapped_column(Float, nullable=True)
    operator: Mapped[str | None] = mapped_column(String(4), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class SLIBucket(Base):
    """Summed good/total counts of one SLI over ``[start, start + resolution)``.

    Recent data is kept in 60-second buckets and later folded into 3600-second buckets, so
    storage grows with time and the number of SLIs, not with traffic. ``updated_at`` lets the
    worker read only what changed since its last tick.
    """

    __tablename__ = "sli_bucket"
    __table_args__ = (UniqueConstraint("sli_id", "resolution", "start"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True)
    sli_id: Mapped[int] = mapped_column(ForeignKey("sli.id", ondelete="CASCADE"), index=True)
    resolution: Mapped[int] = mapped_column(Integer)  # seconds: 60 or 3600
    start: Mapped[int] = mapped_column(BigInteger)  # Unix seconds, a multiple of resolution
    good: Mapped[int] = mapped_column(BigInteger)
    total: Mapped[int] = mapped_column(BigInteger)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
