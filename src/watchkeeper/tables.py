"""Imports every table module so ``Base.metadata`` is complete (Alembic, schema checks)."""

from watchkeeper.alerting import models as alerting_models
from watchkeeper.auth import models as auth_models
from watchkeeper.db import Base
from watchkeeper.events import models as events_models
from watchkeeper.policy import models as policy_models
from watchkeeper.slo import models as slo_models

__all__ = ["Base", "alerting_models", "auth_models", "events_models", "policy_models", "slo_models"]
