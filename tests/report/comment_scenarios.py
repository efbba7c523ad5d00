"""Pull requests as the comment sees them: both sides' objects (Flux HelmReleases, Argo CD
Applications, chart sources, Secrets), compared by the real comparison, the layer graph
built from them, and the findings a run would give. Each scenario names one thing users
measured; its expected comment is ``comment_cases/<name>.md``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any

from renderer.diff.compare import MODIFIED, MOVED, ObjectChange, compare, field_changes
from renderer.diff.engine import DiffOutcome
from renderer.diff.graph import layer_graph
from renderer.diff.rule import Accepted
from renderer.diff.sides import DiffObject, ObjectKey
from renderer.lint.finding import ERROR, WARNING, Finding, Location, ObjectRef
from renderer.model import StackConfig
from renderer.report.comment.links import Links

LAYERS = StackConfig.default().layers
RENAMED = "renamed"  # compare.RENAMED
LAYER_OF = {"kube-system": "S2", "flux-system": "S2", "platform": "S3", "apps": "S5"}
HEAD_SHA = "0123456789abcdef0123456789abcdef01234567"
BASE_SHA = "fedcba9876543210fedcba9876543210fedcba98"
LINKS = Links("https://github.com", "example/stack", HEAD_SHA)
FLUX_GROUP, ARGO_GROUP, SOURCE_GROUP = "helm.toolkit.fluxcd.io", "argoproj.io", "source.toolkit.fluxcd.io"
Objects = dict[ObjectKey, DiffObject]


def _layer_folder(namespace: str) -> str:
    return {"S2": "s2-cluster", "S3": "s3-platform", "S5": "s5-apps"}.get(LAYER_OF.get(namespace, ""), "other")


def helm_release(
    name: str,
    namespace: str,
    chart: str,
    version: str,
    values: dict[str, Any],
    depends: tuple[tuple[str, str], ...] = (),
) -> DiffObject:
    data: dict[str, Any] = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "chart": {
                "spec": {"chart": chart, "version": version, "sourceRef": {"kind": "HelmRepository", "name": name}}
            },
            "values": values,
            "valuesFrom": [{"kind": "Secret", "name": f"{name}-values"}],
        },
    }
    if depends:
        data["spec"]["dependsOn"] = [{"name": other, "namespace": space} for space, other in depends]
    path = f"rendered/flux/{_layer_folder(namespace)}/helmrelease-{name}.yaml"
    return DiffObject((FLUX_GROUP, "HelmRelease", namespace, name), data, path, LAYER_OF.get(namespace))


def application(
    name: str,
    namespace: str,
    chart: str,
    version: str,
    values: dict[str, Any],
    depends: tuple[tuple[str, str], ...] = (),
) -> DiffObject:
    data: dict[str, Any] = {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": {"name": name, "namespace": "argocd"},
        "spec": {
            "destination": {"namespace": namespace},
            "source": {
                "chart": chart,
                "repoURL": "https://charts.example.com",
                "targetRevision": version,
                "helm": {"valuesObject": values},
            },
        },
    }
    if depends:
        entries = ",".join(f"{space}/{other}" for space, other in depends)
        data["metadata"]["annotations"] = {"railiance.io/depends-on": entries}
    path = f"rendered/argo/{_layer_folder(namespace)}/application-{name}.yaml"
    return DiffObject((ARGO_GROUP, "Application", "argocd", name), data, path, LAYER_OF.get(namespace))


def helm_repository(name: str, namespace: str, url: str) -> DiffObject:
    data = {"kind": "HelmRepository", "metadata": {"name": name, "namespace": namespace}, "spec": {"url": url}}
    path = f"rendered/flux/{_layer_folder(namespace)}/helmrepository-{name}.yaml"
    return DiffObject((SOURCE_GROUP, "HelmRepository", namespace, name), data, path, LAYER_OF.get(namespace))


def secret(name: str, namespace: str, data: dict[str, str]) -> DiffObject:
    body = {"kind": "Secret", "metadata": {"name": name, "namespace": namespace}, "stringData": data}
    path = f"secrets/{name}.sops.yaml"
    return DiffObject(("", "Secret", namespace, name), body, path, LAYER_OF.get(namespace))


def release(
    name: str,
    namespace: str,
    chart: str,
    version: str,
    values: dict[str, Any],
    depends: tuple[tuple[str, str], ...] = (),
    argo: bool = True,
) -> Objects:
    """A release as rail renders it: a HelmRelease, its Argo CD Application, its chart
    source and its values Secret."""
    objects = [
        helm_release(name, namespace, chart, version, values, depends),
        helm_repository(name, namespace, "https://charts.example.com"),
        secret(f"{name}-values", namespace, {"values.yaml": "adminPassword: hunter2-canary"}),
    ]
    if argo:
        objects.append(application(name, namespace, chart, version, values, depends))
    return {obj.key: obj for obj in objects}


def outcome(
    base: Objects,
    head: Objects,
    findings: tuple[Finding, ...] = (),
    **extra: Any,
) -> DiffOutcome:
    result = compare(base, head)
    graph = layer_graph(base, head, result, LAYERS)
    defaults: dict[str, Any] = {"lint_fixed": (), "lint_unchanged": 0}
    return DiffOutcome(
        base_label=extra.pop("base_label", "main"),
        head_label=extra.pop("head_label", "the working tree"),
        result=result,
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        graph=graph,
        **{**defaults, **extra},
    )


def finding(
    rule: str,
    severity: str,
    message: str,
    path: str,
    line: int | None,
    obj: tuple[str, str, str] | None,
    hint: str = "",
    change: str | None = MODIFIED,
) -> Finding:
    return Finding(
        rule=rule,
        severity=severity,
        message=message,
        location=Location(path, line),
        object=ObjectRef(*obj) if obj else None,
        hint=hint,
        change=change,
    )


def _pg(size: str = "10Gi", replicas: int = 3, pdb: bool = True) -> dict[str, Any]:
    return {
        "persistence": {"enabled": True, "size": size},
        "postgresql": {"replicaCount": replicas, "pdb": {"create": pdb}},
    }


def _stack(**changes: Any) -> Objects:
    """A small stack: postgresql-ha (S3), valkey (S3), gitea (S5) depending on both, ingress (S2)."""
    objects: Objects = {}
    objects |= release("ingress-nginx", "kube-system", "ingress-nginx", "4.11.0", {"controller": {"replicaCount": 2}})
    objects |= release("postgresql-ha", "platform", "postgresql-ha", "16.3.4", changes.get("pg", _pg()))
    objects |= release("valkey", "platform", "valkey", "2.1.0", {"persistence": {"size": "2Gi"}})
    objects |= release(
        "gitea",
        "apps",
        "gitea",
        changes.get("gitea_version", "12.4.0"),
        {"ingress": {"enabled": True}},
        depends=(("platform", "postgresql-ha"), ("platform", "valkey")),
    )
    return objects


def small_change() -> tuple[DiffOutcome, Links | None]:
    """A volume shrinks and a chart's major version goes up, in both targets: one section
    per release, the field shown once for "Flux and Argo CD", file:line linked."""
    findings = (
        finding(
            "persistence-shrink",
            ERROR,
            "volume size persistence.size shrinks from 10Gi to 8Gi: a PersistentVolumeClaim cannot shrink",
            "releases/s3/postgresql-ha.yaml",
            33,
            ("HelmRelease", "platform", "postgresql-ha"),
            "keep the size; to reclaim space, migrate to a new, smaller volume",
        ),
        finding(
            "chart-major-bump",
            WARNING,
            "chart gitea changes major version: 12.4.0 -> 13.0.0",
            "releases/s5/gitea.yaml",
            10,
            ("HelmRelease", "apps", "gitea"),
            "read the chart's upgrade notes",
        ),
    )
    head = _stack(pg=_pg(size="8Gi"), gitea_version="13.0.0")
    return outcome(_stack(), head, findings, base_commit=BASE_SHA, head_commit=HEAD_SHA), LINKS


def fifty_new_releases() -> tuple[DiffOutcome, Links | None]:
    """50 new releases (HelmRelease, Application, source and Secret each): one table row
    each, not 100 sections; the graph draws the changed ones and their neighbours."""
    head = _stack()
    for index in range(50):
        head |= release(f"tool-{index:02d}", "apps", "tool", "1.0.0", {"replicaCount": 1})
    return outcome(_stack(), head), None


def same_warning_in_51_releases() -> tuple[DiffOutcome, Links | None]:
    """51 releases bump the same chart the same way: one finding row, one section."""
    base, head = _stack(), _stack()
    findings = []
    for index in range(51):
        name = f"site-{index:02d}"
        base |= release(name, "apps", "static-site", "1.4.0", {"replicaCount": 2})
        head |= release(name, "apps", "static-site", "2.0.0", {"replicaCount": 2})
        findings.append(
            finding(
                "chart-major-bump",
                WARNING,
                "chart static-site changes major version: 1.4.0 -> 2.0.0",
                f"releases/s5/{name}.yaml",
                9,
                ("HelmRelease", "apps", name),
                "read the chart's upgrade notes",
            )
        )
    return outcome(base, head, tuple(findings)), None


def moved_with_migration() -> tuple[DiffOutcome, Links | None]:
    """A stateful release moves namespace with a recorded migration: accepted, listed; a
    suppressed finding, a fixed one and a note are listed too."""
    base = _stack()
    head = {key: obj for key, obj in _stack().items() if "valkey" not in key[3]}
    head |= release("valkey", "apps", "valkey", "2.1.0", {"persistence": {"size": "2Gi"}})
    moved = finding(
        "stateful-relocation",
        ERROR,
        "release 'valkey' has persistent volumes and moves (namespace platform -> apps)",
        "releases/s3/valkey.yaml",
        6,
        ("HelmRelease", "apps", "valkey"),
        "migrate the data first, then record it",
        change=MOVED,
    )
    accepted = Accepted(moved, "valkey dump restored into apps; ticket OPS-12", Location("releases/s3/valkey.yaml", 12))
    suppressed = finding(
        "chart-unpinned",
        WARNING,
        "chart valkey is not pinned to a version",
        "releases/s3/valkey.yaml",
        8,
        ("HelmRelease", "apps", "valkey"),
    )
    fixed = finding(
        "plaintext-secret",
        ERROR,
        "values key auth.password holds a plaintext secret",
        "values/s5/gitea.yaml",
        4,
        ("HelmRelease", "apps", "gitea"),
    )
    return (
        outcome(
            base,
            head,
            accepted=(accepted,),
            suppressed=(suppressed,),
            lint_fixed=(fixed,),
            notes=("base does not parse: new/fixed sorting unavailable (releases/s5/broken.yaml)",),
            base_commit=BASE_SHA,
        ),
        None,
    )


def renamed_release() -> tuple[DiffOutcome, Links | None]:
    """A stateful release under a new name: compare's "renamed" change (made by hand here
    from the removed and added copies), its old place shown."""
    base = _stack()
    head = {key: obj for key, obj in _stack().items() if "valkey" not in key[3]}
    head |= release("cache", "platform", "valkey", "2.1.0", {"persistence": {"size": "2Gi"}})
    result = compare(base, head)
    pairs = [
        (
            base[(FLUX_GROUP, "HelmRelease", "platform", "valkey")],
            head[(FLUX_GROUP, "HelmRelease", "platform", "cache")],
        ),
        (base[(ARGO_GROUP, "Application", "argocd", "valkey")], head[(ARGO_GROUP, "Application", "argocd", "cache")]),
    ]
    paired = {obj.key for pair in pairs for obj in pair}
    result.changes = [change for change in result.changes if change.key not in paired] + [
        ObjectChange(RENAMED, new.key, old, new, field_changes(old, new)) for old, new in pairs
    ]
    result.changes.sort(key=lambda change: (change.layer or "~", change.key))
    graph = layer_graph(base, head, result, LAYERS)
    return DiffOutcome("main", "the working tree", result, (), (), 0, graph=graph), None


def hostile_names() -> tuple[DiffOutcome, Links | None]:
    """Names, values and messages built to break markdown and Mermaid; a platform
    release depending on an application (the layer rule broken: a red edge)."""
    evil = 'x"]; click r0 call alert(1) %%{init}%% `end` <b>@team #1'
    base = _stack()
    head = _stack()
    head |= release(
        "cache",
        "platform",
        "valkey",
        "2.1.0",
        {"note": evil, "persistence": {"size": "1Gi"}},
        depends=(("apps", "gitea"),),
    )
    # A release whose name and namespace would end a Mermaid label, add a directive or
    # a click handler, and close the code block, if they were not escaped.
    head |= release(
        f'end"] %%{{init: {{}}}}%% ```\nclick r0 "javascript:alert(1)" #1 `{evil}`', "apps", "tool", "1.0.0", {}
    )
    head |= {
        key: replace(obj, data={**obj.data, "metadata": {**obj.data["metadata"], "labels": {"team": evil}}})
        for key, obj in _stack().items()
        if key[3] == "gitea"
    }
    findings = (
        finding(
            "layer-dependency",
            ERROR,
            f"platform/cache (S3) depends on apps/gitea (S5): {evil}",
            f"releases/{evil}.yaml",
            2,
            ("HelmRelease", "platform", "cache"),
            f"fix | {evil}",
            change="added",
        ),
    )
    links = Links("https://gitea.example.com", "ops/stack", HEAD_SHA, "gitea")
    return outcome(base, head, findings, base_label=f"main {evil}"), links


def targets_differ() -> tuple[DiffOutcome, Links | None]:
    """Flux and Argo CD copies changed differently: each target's row kept apart."""
    head = _stack()
    flux = head[(FLUX_GROUP, "HelmRelease", "platform", "valkey")]
    spec = {**flux.data["spec"], "values": {"persistence": {"size": "4Gi"}}}
    head[flux.key] = replace(flux, data={**flux.data, "spec": spec})
    return outcome(_stack(), head), None


def no_change() -> tuple[DiffOutcome, Links | None]:
    return outcome(_stack(), _stack()), None


SCENARIOS: dict[str, Callable[[], tuple[DiffOutcome, Links | None]]] = {
    "small-change": small_change,
    "fifty-new-releases": fifty_new_releases,
    "same-warning-in-51-releases": same_warning_in_51_releases,
    "moved-with-migration": moved_with_migration,
    "renamed-release": renamed_release,
    "hostile-names": hostile_names,
    "targets-differ": targets_differ,
    "no-change": no_change,
}
