"""docs/alerting.md: its Alertmanager configuration and routing rules are valid as printed."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from tests.alerting.escalation_setup import make_policies
from watchkeeper.alerting import routing, service
from watchkeeper.alerting.exceptions import InvalidRoutes
from watchkeeper.config import Settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "alerting.md"


def _yaml_block(containing: str) -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    return next(block for block in blocks if containing in block)


@pytest.mark.integration
def test_the_alertmanager_example_passes_amtool(tmp_path: Path) -> None:
    amtool = shutil.which("amtool")
    if amtool is None:
        if Settings().require_integration:
            pytest.fail("amtool is required but not installed")
        pytest.skip("amtool is not installed (Debian package prometheus-alertmanager)")
    config = tmp_path / "alertmanager.yml"
    config.write_text(_yaml_block("receivers:"))
    result = subprocess.run(
        [amtool, "check-config", str(config)], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_routing_example_applies(session: Session) -> None:
    service.create_integration(
        session, name="prometheus", type="alertmanager", now=datetime.now(UTC)
    )
    rules = routing.parse_file(_yaml_block("routes:"), filename="docs/alerting.md")
    with pytest.raises(InvalidRoutes, match=r"routes\[0\]\.escalation_policy: no escalation"):
        routing.apply(session, rules=rules)
    make_policies(session, "shop-oncall")
    applied = routing.apply(session, rules=rules)
    assert [r.urgency for r in applied] == ["high", "low"]
