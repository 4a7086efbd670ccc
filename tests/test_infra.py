"""infra/ matches the code: every file the README cites exists, every manifest parses, and the modules, Dagster
resource keys, environment variables, ports and versions they name are the ones the code has."""

from __future__ import annotations

import importlib.util
import re
import shlex
from pathlib import Path

import pytest
import yaml

from tests.conftest import ROOT

INFRA = ROOT / "infra"
IMAGE_ROOT = "/opt/orion"  # where the image puts the repository (infra/image/Dockerfile)
NOT_PATHS = {"dagster/dagster"}  # the Helm chart's name
RUNTIME = (".orion/",)  # folders `make run` creates (store, DVC remote), not files of the repository


def _manifests() -> dict[Path, list]:
    return {p: [d for d in yaml.safe_load_all(p.read_text()) if d is not None] for p in sorted(INFRA.rglob("*.yaml"))}


def _walk(node):
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def _env(docs) -> dict[str, str]:
    """Every ``env`` entry (name -> value) in the documents."""
    found = {}
    for node in _walk(docs):
        if isinstance(node, dict) and isinstance(node.get("env"), list):
            for item in node["env"]:
                found[item["name"]] = str(item.get("value", ""))
    return found


def _launcher_env() -> dict[str, str]:
    lines = (INFRA / "deepspeed" / "launcher.env").read_text().splitlines()
    return dict(line.split("=", 1) for line in lines if line.strip() and not line.startswith("#"))


def _code_text() -> str:
    return "\n".join(p.read_text() for pkg in ("orion_core", "orion_assets") for p in (ROOT / pkg).rglob("*.py"))


def _modules(text: str) -> set[str]:
    return set(re.findall(r"-m\s+([A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)", text))


def test_every_cited_file_exists():
    readme = (INFRA / "README.md").read_text()
    cited = {c for c in re.findall(r"`([\w.*-]+(?:/[\w.*-]+)+)`", readme) if c not in NOT_PATHS and not c.startswith(RUNTIME)}
    assert {"deepspeed/launcher.env", "helm/dagster-values.yaml", "kuberay/raycluster.yaml"} <= cited
    missing = [c for c in cited if not list(INFRA.glob(c)) and not list(ROOT.glob(c))]
    assert not missing, f"infra/README.md cites files that do not exist: {missing}"


def test_manifests_parse_and_name_only_what_the_code_has():
    manifests = _manifests()
    assert {p.relative_to(INFRA).as_posix() for p in manifests} >= {
        "helm/dagster-values.yaml", "kuberay/raycluster.yaml", "kuberay/rayjob-train.yaml", "mlflow/mlflow.yaml"}
    code = _code_text()
    names = {k for docs in manifests.values() for k in _env(docs)} | set(_launcher_env())
    orion = sorted(n for n in names if n.startswith("ORION_"))
    assert len(orion) >= 10
    unknown = [n for n in orion if f'"{n}"' not in code]
    assert not unknown, f"environment variables the code never reads: {unknown}"
    text = "\n".join(p.read_text() for p in manifests) + (INFRA / "image" / "Dockerfile").read_text()
    modules = _modules(text) | {"orion_assets.definitions"}
    assert "orion_assets.training.ray_job" in modules
    assert not [m for m in modules if importlib.util.find_spec(m) is None]


def test_dagster_values_install_what_they_select(monkeypatch):
    values = yaml.safe_load((INFRA / "helm" / "dagster-values.yaml").read_text())
    deployment = values["dagster-user-deployments"]["deployments"][0]
    assert deployment["dagsterApiGrpcArgs"] == ["-m", "orion_assets.definitions"]
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    from dagster_k8s import K8sRunLauncher, k8s_job_executor  # installed (requirements.txt pins dagster-k8s)

    assert K8sRunLauncher and "dagster-k8s==" in (ROOT / "requirements.txt").read_text()
    env = _env(values)
    monkeypatch.setenv("ORION_EXECUTOR", env["ORION_EXECUTOR"])
    from orion_assets.definitions import build_executor

    assert build_executor() is k8s_job_executor
    # The resources those variables select.
    for name in ("ORION_STORE", "ORION_STORE_CACHE", "ORION_RAY_ADDRESS", "ORION_RAY_VIDEO_CPUS",
                 "ORION_RAY_VIDEO_GPUS", "ORION_RAY_JOBS_ADDRESS", "ORION_TRAIN_PROCS", "ORION_RAY_TRAIN_GPUS"):
        monkeypatch.setenv(name, env[name])
    from orion_assets.definitions import build_resources
    from orion_assets.resources import RayClusterResource, S3StoreResource
    from orion_assets.resources.ray_train import RayTrainLauncher

    resources = build_resources()
    assert isinstance(resources["store"], S3StoreResource) and resources["store"].cache == env["ORION_STORE_CACHE"]
    assert isinstance(resources["ray"], RayClusterResource) and resources["ray"].settings().num_gpus >= 1
    assert isinstance(resources["deepspeed"], RayTrainLauncher) and resources["deepspeed"].world_size() == 16
    readme_keys = set(re.findall(r"\(`(\w+)`\)", (INFRA / "README.md").read_text()))
    assert readme_keys and readme_keys <= set(resources)


def test_ray_cluster_matches_the_addresses_and_tasks():
    import ray

    cluster, pvc = yaml.safe_load_all((INFRA / "kuberay" / "raycluster.yaml").read_text())
    assert cluster["kind"] == "RayCluster" and cluster["spec"]["rayVersion"] == ray.__version__
    head = cluster["spec"]["headGroupSpec"]["template"]["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in head["ports"]}
    env = _env(yaml.safe_load((INFRA / "helm" / "dagster-values.yaml").read_text()))
    assert env["ORION_RAY_ADDRESS"].endswith(f":{ports['gcs']}")
    assert env["ORION_RAY_JOBS_ADDRESS"].endswith(f":{ports['dashboard']}")
    worker = cluster["spec"]["workerGroupSpecs"][0]["template"]["spec"]["containers"][0]
    gpus = int(worker["resources"]["limits"]["nvidia.com/gpu"])
    assert float(env["ORION_RAY_VIDEO_GPUS"]) <= gpus and float(env["ORION_RAY_TRAIN_GPUS"]) <= gpus
    mounts = {m["mountPath"] for c in (head, worker) for m in c["volumeMounts"]}
    assert mounts == {env["ORION_STORE_CACHE"]} and pvc["spec"]["accessModes"] == ["ReadWriteMany"]


def test_rayjob_entrypoint_parses_with_the_code():
    from orion_assets.training.ray_job import build_parser
    from orion_core.train.cli import build_parser as train_parser

    job = yaml.safe_load((INFRA / "kuberay" / "rayjob-train.yaml").read_text())
    argv = shlex.split(job["spec"]["entrypoint"])
    assert argv[:3] == ["python", "-m", "orion_assets.training.ray_job"]
    args = build_parser().parse_args(argv[3:])
    train = train_parser().parse_args(args.train_args[1:])
    assert train.stage == 1 and args.workers >= 1


def test_launcher_env_and_mlflow_point_at_real_files():
    env = _launcher_env()
    assert (ROOT / env["ORION_TRAIN_HOSTFILE"]).is_file()
    assert env["ORION_TRAIN_LAUNCHER"] in ("deepspeed", "python", "auto")
    docs = yaml.safe_load_all((INFRA / "mlflow" / "mlflow.yaml").read_text())
    commands = [c["command"] for d in docs for c in _containers(d) if c.get("command")]
    scripts = [arg for cmd in commands for arg in cmd if arg.startswith(IMAGE_ROOT)]
    assert scripts and all((ROOT / s[len(IMAGE_ROOT) + 1:]).is_file() for s in scripts)
    server = (INFRA / "mlflow" / "server.sh").read_text()
    names = {k for d in yaml.safe_load_all((INFRA / "mlflow" / "mlflow.yaml").read_text()) for k in _env(d)}
    assert {"MLFLOW_DB_URI", "MLFLOW_ARTIFACTS"} <= names and all(f"${{{n}" in server for n in ("MLFLOW_DB_URI",
                                                                                                "MLFLOW_ARTIFACTS"))


def _containers(doc) -> list[dict]:
    return [c for node in _walk(doc) if isinstance(node, dict) and isinstance(node.get("containers"), list)
            for c in node["containers"]]


@pytest.mark.parametrize("copied", ["requirements.txt", "scripts/nltk_wordnet.sh"])
def test_image_uses_files_that_exist(copied):
    assert copied in (INFRA / "image" / "Dockerfile").read_text() and (ROOT / copied).is_file()
