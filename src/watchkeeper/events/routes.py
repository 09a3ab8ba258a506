"""JSON API of the SLI event store."""

from fastapi import APIRouter

router = APIRouter(prefix="/api/v1", tags=["events"])
