"""The deployment files parse and keep their promises (no container engine runs here)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def k8s() -> dict[tuple[str, str], dict[str, Any]]:
    docs = yaml.safe_load_all((DEPLOY / "kubernetes/skillmap.yaml").read_text())
    return {(d["kind"], d["metadata"]["name"]): d for d in docs}


def container(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["spec"]["template"]["spec"]["containers"][0]


def test_kubernetes_web_is_probed_on_the_health_endpoints() -> None:
    web = container(k8s()[("Deployment", "skillmap-web")])
    assert web["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert web["readinessProbe"]["httpGet"]["path"] == "/readyz"


def test_kubernetes_worker_is_never_privileged_and_beat_is_single() -> None:
    docs = k8s()
    worker = container(docs[("Deployment", "skillmap-worker")])["securityContext"]
    assert worker["privileged"] is False
    assert worker["capabilities"]["drop"] == ["ALL"]
    assert "SYS_ADMIN" not in worker["capabilities"]["add"]
    assert worker["seccompProfile"]["localhostProfile"].endswith("seccomp-worker.json")
    assert docs[("Deployment", "skillmap-beat")]["spec"]["replicas"] == 1
    for name in ("skillmap-web", "skillmap-beat"):
        spec = docs[("Deployment", name)]["spec"]["template"]["spec"]
        assert spec["securityContext"]["runAsNonRoot"] is True


def test_compose_runs_every_role_and_keeps_secrets_out() -> None:
    compose = yaml.safe_load((DEPLOY / "docker-compose.yml").read_text())
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(compose["services"])
    worker = compose["services"]["worker"]
    assert not worker.get("privileged")
    assert "seccomp=./seccomp-worker.json" in worker["security_opt"]
    assert "SECRET_KEY" in compose["x-app"]["environment"]
    assert compose["x-app"]["environment"]["SECRET_KEY"].startswith("${SECRET_KEY:?")


def test_the_worker_seccomp_profile_allows_namespaces_and_denies_kernel_calls() -> None:
    profile = json.loads((DEPLOY / "seccomp-worker.json").read_text())
    denied = {n for rule in profile["syscalls"] for n in rule["names"]}
    assert profile["defaultAction"] == "SCMP_ACT_ALLOW"
    assert {"kexec_load", "bpf", "init_module", "ptrace"} <= denied
    assert not {"clone", "unshare", "mount", "pivot_root"} & denied
