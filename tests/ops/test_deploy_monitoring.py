"""deploy/prometheus and deploy/grafana: the rules, their unit tests and the scrape config
pass promtool; every query (alerts and dashboard) is valid PromQL over metrics the app
really exports; and every metric the app exports is on the dashboard."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from django.test import Client
from prometheus_client.parser import text_string_to_metric_families

BASE_DIR = Path(__file__).resolve().parents[2]
PROMETHEUS = BASE_DIR / "deploy" / "prometheus"
DASHBOARD = BASE_DIR / "deploy" / "grafana" / "skillmap.json"
METRIC_NAME = re.compile(r"\b(skillmap_[a-z0-9_]+)")
# Exported for completeness, not charted: the scrape's own health.
NOT_CHARTED = {"skillmap_database_up"}


def promtool(*args: str, cwd: Path = PROMETHEUS) -> subprocess.CompletedProcess[str]:
    binary = shutil.which("promtool")
    if binary is None:
        pytest.fail("promtool is missing: `make setup-test` installs it (Debian's prometheus)")
    return subprocess.run(
        [binary, *args], cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )


def alert_rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load((PROMETHEUS / "alerts.yml").read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def test_the_alert_rules_pass_promtool() -> None:
    result = promtool("check", "rules", "alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(alert_rules())} rules found" in result.stdout


def test_the_alerts_fire_when_they_should_and_not_otherwise() -> None:
    result = promtool("test", "rules", "alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_the_scrape_configuration_passes_promtool() -> None:
    result = promtool("check", "config", "--syntax-only", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_issue_s_alerts_exist_and_each_says_how_bad_and_what() -> None:
    rules = {rule["alert"]: rule for rule in alert_rules()}
    for name in (
        "SkillmapGradingQueueGrowing",
        "SkillmapNoLiveWorker",
        "SkillmapGradingErrors",
        "SkillmapSaveLatencyOverBudget",
        "SkillmapSubmitLatencyOverBudget",
    ):
        assert name in rules
    for rule in rules.values():
        assert rule["labels"]["severity"] in {"warning", "critical"}, rule["alert"]
        assert rule["annotations"]["summary"], rule["alert"]


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    queries = dashboard_queries()
    assert len(queries) >= 20
    # promtool parses each query as a recording rule; Grafana's own interval becomes 5m.
    rules = {
        "groups": [
            {
                "name": "dashboard",
                "rules": [
                    {"record": f"dashboard:query_{i}", "expr": q.replace("$__rate_interval", "5m")}
                    for i, q in enumerate(queries)
                ],
            }
        ]
    }
    (tmp_path / "queries.yml").write_text(yaml.safe_dump(rules))
    result = promtool("check", "rules", "queries.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.django_db
def test_queries_use_only_exported_metrics_and_every_metric_is_charted(client: Client) -> None:
    response = client.get("/metrics")
    assert response.status_code == 200
    families = {
        family.name
        for family in text_string_to_metric_families(response.content.decode())
        if family.name.startswith("skillmap_")
    }
    suffixes = ("", "_total", "_bucket", "_count", "_sum")
    exported = {family + suffix for family in families for suffix in suffixes}
    rules_text = (PROMETHEUS / "alerts.yml").read_text()
    tests_text = (PROMETHEUS / "alerts.test.yml").read_text()
    charts_text = "\n".join(dashboard_queries())
    used = set(METRIC_NAME.findall(rules_text + charts_text + tests_text))
    assert used - exported == set()
    charted = set(METRIC_NAME.findall(charts_text))
    uncharted = {
        family
        for family in families - NOT_CHARTED
        if not any(family + suffix in charted for suffix in suffixes)
    }
    assert uncharted == set()
