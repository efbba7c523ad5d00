"""Real repositories: linted or skipped with a clear note, never a crash."""

from __future__ import annotations

from pathlib import Path

from conftest import RunRail

FILES = {
    # Several documents, anchors and aliases, Flux postBuild ${VAR} substitutions.
    "apps/multi.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: ${APPS_NAMESPACE}
  labels: {railiance.io/layer: S5}
spec:
  interval: 10m
  chart:
    spec: &chart {chart: podinfo, version: 6.5.0, sourceRef: {kind: HelmRepository, name: podinfo}}
  values:
    ingress: {host: "podinfo.${CLUSTER_DOMAIN}"}
    password: ${PODINFO_PASSWORD}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: podinfo, namespace: "${APPS_NAMESPACE}"}
spec: {interval: 1h, url: "https://stefanprodan.github.io/podinfo"}
---
# a comment-only document
""",
    # chartRef to an OCIRepository.
    "apps/oci.yaml": """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: valkey, namespace: platform}
spec:
  interval: 10m
  url: oci://registry-1.docker.io/bitnamicharts/valkey
  ref: {tag: 4.0.2}
  layerSelector: {mediaType: application/vnd.cncf.helm.chart.content.v1.tar+gzip, operation: copy}
---
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: valkey, namespace: platform}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: valkey}
  values: {auth: {existingSecret: valkey}}
""",
    # A HelmRelease fragment used as a kustomize patch.
    "overlays/prod/patch.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: podinfo
  namespace: ${APPS_NAMESPACE}
spec:
  chart: {spec: {version: "*"}}
  values: {replicaCount: 3}
""",
    "overlays/prod/kustomization.yaml": """\
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources: [../../apps]
patches: [{path: patch.yaml}]
""",
    # Older API versions.
    "legacy/old.yaml": """\
apiVersion: helm.toolkit.fluxcd.io/v2beta1
kind: HelmRelease
metadata: {name: legacy, namespace: apps}
spec:
  interval: 10m
  chart: {spec: {chart: legacy, version: 1.0.0, sourceRef: {kind: HelmRepository, name: legacy}}}
---
apiVersion: helm.toolkit.fluxcd.io/v2beta2
kind: HelmRelease
metadata: {name: legacy2, namespace: apps}
spec:
  interval: 10m
  chart: {spec: {chart: legacy, version: 1.0.0, sourceRef: {kind: HelmRepository, name: legacy}}}
""",
    # Not Kubernetes at all.
    "ci/config.yaml": "stages: [build, test]\nvariables: {A: b}\n",
    "empty.yaml": "",
}


def test_a_real_world_repository_is_linted_without_crashing(tmp_path: Path, run_rail: RunRail) -> None:
    for relative, text in FILES.items():
        path = tmp_path / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    done = run_rail("lint", ".", "--format", "text", cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    assert "Traceback" not in done.stdout + done.stderr and "internal error" not in done.stderr
    assert "overlays/prod/patch.yaml: HelmRelease podinfo is in a file a kustomization.yaml applies" in done.stdout
    # The patch (with its unpinned version) is not mistaken for the release it patches.
    assert "chart-unpinned" not in done.stdout
    # One note per deprecated kind and version (grouped notes), naming the file.
    notes = [line for line in done.stdout.splitlines() if line.startswith("note:") and "deprecated" in line]
    assert len(notes) == 2, notes
    assert any("legacy/old.yaml" in line and "helm.toolkit.fluxcd.io/v2beta1" in line for line in notes)
    assert any("legacy/old.yaml" in line and "helm.toolkit.fluxcd.io/v2beta2" in line for line in notes)
    # ${VAR} placeholders are not plaintext secrets.
    assert "plaintext-secret" not in done.stdout
