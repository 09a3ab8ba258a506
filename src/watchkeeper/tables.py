"""Imports every table module so ``Base.metadata`` is complete (Alembic, schema checks)."""

from watchkeeper import reference_cache
from watchkeeper.alerting import models as alerting_models
from watchkeeper.auth import models as auth_models
from watchkeeper.db import Base
from watchkeeper.events import models as events_models
from watchkeeper.incident import models as incident_models
from watchkeeper.notify import models as notify_models
from watchkeeper.oncall import models as oncall_models
from watchkeeper.policy import models as policy_models
from watchkeeper.slo import models as slo_models

__all__ = [
    "Base",
    "alerting_models",
    "auth_models",
    "events_models",
    "incident_models",
    "notify_models",
    "oncall_models",
    "policy_models",
    "reference_cache",
    "slo_models",
]
