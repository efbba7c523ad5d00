"""What linting a Flux or Argo CD repository as it applies costs (issues 11 and 12).

    python bench/flux_tree.py [--shape flux|argo] [--sizes 100,1000] [--runs 3] [--json FILE]

For every size: a synthetic repository in the common home-ops shape (bootstrap
``gotk-sync.yaml``; a parent Kustomization whose ``spec.patches`` give every child
its ``interval`` and ``prune``; one folder per app with a ``ks.yaml`` whose
``postBuild.substitute`` names the app, a kustomization.yaml and a HelmRelease
written with ``${APP}``); with ``--shape argo``, an app of apps (a root Application
reading ``apps/``; per app an Application of a chart from a Helm repository whose
values come from ``values/<app>.yaml`` through a multi-source ``$values`` reference).
Then whole ``rail lint`` processes, a warm-up and ``--runs`` measured rounds alternated:

- ``applied``: ``rail lint REPO``, what the Kustomization tree builds;
- ``as-written``: ``rail lint --all-files REPO``, the files as written;
- ``before`` (with ``--base REV``): ``rail lint REPO`` of rail as committed at ``REV``,
  before the apply model: the time the issue's target is relative to.

The target: ``applied`` at most 1.5x ``before`` (without ``--base``: ``as-written``).
``--snapshot REV`` measures rail as committed at REV, not the working tree (both are
installed by bench/run.py's ``snapshot_rail``, byte-compiled). Prints the medians and
the ratio, and writes them as JSON (``--json``). Exit 1 if a run fails (exit above 1).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from run import snapshot_rail  # bench/ is the script's folder: run.py sits beside it

TARGET = 1.5
GOTK_SYNC = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: GitRepository
metadata: {name: flux-system, namespace: flux-system}
spec: {interval: 1m, url: "ssh://git@example.com/bench/fleet", ref: {branch: main}}
---
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: flux-system, namespace: flux-system}
spec:
  interval: 10m
  path: ./clusters/prod
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
"""
APPS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {name: apps, namespace: flux-system}
spec:
  interval: 10m
  path: ./apps
  prune: true
  sourceRef: {kind: GitRepository, name: flux-system}
  patches:
    - target: {kind: Kustomization, group: kustomize.toolkit.fluxcd.io}
      patch: |
        apiVersion: kustomize.toolkit.fluxcd.io/v1
        kind: Kustomization
        metadata: {name: not-used}
        spec:
          interval: 30m
          prune: true
          sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}
"""
REPOSITORY = """\
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {name: charts, namespace: flux-system}
spec: {interval: 1h, url: "https://charts.example.com"}
"""
APP_KS = """\
apiVersion: kustomize.toolkit.fluxcd.io/v1
kind: Kustomization
metadata: {{name: {app}, namespace: flux-system}}
spec:
  targetNamespace: {app}
  path: ./apps/{app}/app
  postBuild:
    substitute: {{APP: {app}}}
"""
RELEASE = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata:
  name: ${APP}
spec:
  interval: 30m
  chart:
    spec:
      chart: app-template
      version: 4.1.2
      sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}
  values:
    fullnameOverride: ${APP}
    persistence: {data: {size: 1Gi}}
"""


def generate(root: Path, size: int) -> None:
    (root / "clusters" / "prod" / "flux-system").mkdir(parents=True)
    (root / "clusters" / "prod" / "flux-system" / "gotk-sync.yaml").write_text(GOTK_SYNC)
    (root / "clusters" / "prod" / "apps.yaml").write_text(APPS)
    (root / "clusters" / "prod" / "repository.yaml").write_text(REPOSITORY)
    names = [f"app{index:05d}" for index in range(size)]
    (root / "apps").mkdir()
    listing = "".join(f"  - ./{name}/ks.yaml\n" for name in names)
    (root / "apps" / "kustomization.yaml").write_text(
        f"apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n{listing}"
    )
    for name in names:
        app = root / "apps" / name / "app"
        app.mkdir(parents=True)
        (root / "apps" / name / "ks.yaml").write_text(APP_KS.format(app=name))
        (app / "kustomization.yaml").write_text("resources: [helmrelease.yaml]\n")
        (app / "helmrelease.yaml").write_text(RELEASE)


ARGO_ROOT = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: root, namespace: argocd}
spec:
  project: default
  source:
    repoURL: https://git.example.com/bench/fleet.git
    path: apps
  destination:
    server: https://kubernetes.default.svc
    namespace: argocd
"""
ARGO_APP = """\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: {app}, namespace: argocd}}
spec:
  project: default
  sources:
    - repoURL: https://charts.example.com
      chart: app-template
      targetRevision: 4.1.2
      helm:
        valueFiles: [$values/values/{app}.yaml]
    - repoURL: https://git.example.com/bench/fleet.git
      ref: values
  destination:
    server: https://kubernetes.default.svc
    namespace: {app}
"""
ARGO_VALUES = """\
fullnameOverride: {app}
persistence:
  data: {{size: 1Gi}}
"""


def generate_argo(root: Path, size: int) -> None:
    (root / "bootstrap").mkdir(parents=True)
    (root / "bootstrap" / "root.yaml").write_text(ARGO_ROOT)
    (root / "apps").mkdir()
    (root / "values").mkdir()
    for name in (f"app{index:05d}" for index in range(size)):
        (root / "apps" / f"{name}.yaml").write_text(ARGO_APP.format(app=name))
        (root / "values" / f"{name}.yaml").write_text(ARGO_VALUES.format(app=name))


def timed(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode > 1:
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: {done.stderr[-2000:]}")
    return elapsed


def bench(size: int, runs: int, rail: str, before: str | None, shape: str = "flux") -> dict[str, Any]:
    work = Path(tempfile.mkdtemp(prefix="rail-flux-bench-"))
    try:
        (generate_argo if shape == "argo" else generate)(work / "repo", size)
        commands = {"applied": [rail, "lint", "repo"], "as-written": [rail, "lint", "--all-files", "repo"]}
        if before is not None:
            commands["before"] = [before, "lint", "repo"]
        names = list(commands)
        samples: dict[str, list[float]] = {name: [] for name in commands}
        for round_index in range(runs + 1):
            shift = round_index % len(names)  # each round starts one command later: drift hits all alike
            for name in names[shift:] + names[:shift]:
                elapsed = timed(commands[name], work)
                if round_index:  # the first round warms the caches
                    samples[name].append(elapsed)
        medians = {name: statistics.median(values) for name, values in samples.items()}
        reference = medians.get("before", medians["as-written"])
        return {
            "shape": shape,
            "size": size,
            "runs": runs,
            "median_s": medians,
            "ratio": medians["applied"] / reference,
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", choices=("flux", "argo"), default="flux")
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--rail", default=str(Path(sys.executable).with_name("rail")))
    parser.add_argument("--snapshot", metavar="REV", help="measure rail as committed at REV")
    parser.add_argument("--base", metavar="REV", help="also measure rail at REV (before the apply model)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="rail-flux-snapshots-") as folder:
        rail = snapshot_rail(args.snapshot, Path(folder, "now"))[0] if args.snapshot else args.rail
        before = snapshot_rail(args.base, Path(folder, "base"))[0] if args.base else None
        results = [bench(int(size), args.runs, rail, before, args.shape) for size in args.sizes.split(",")]
    for result in results:
        medians = result["median_s"]
        shown = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in medians.items())
        verdict = "PASS" if result["ratio"] <= TARGET else "FAIL"
        print(f"{result['size']:>6} apps: {shown}: applied {result['ratio']:.2f}x (target <= {TARGET}x) {verdict}")
    if args.json:
        results_meta = {"snapshot": args.snapshot, "base": args.base, "results": results}
        args.json.write_text(json.dumps(results_meta, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
