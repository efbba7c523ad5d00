"""Generate a realistic synthetic rail stack for the benchmark (issue 6).

    python bench/generate.py --releases N --seed S --out DIR
    python bench/generate.py --seed S --out DIR --changed PCT --from DIR

N releases over S2 (about 10%: cluster runtime), S3 (30%: PostgreSQL HA, Valkey,
PostgreSQL, MariaDB, RabbitMQ, OpenSearch, Velero) and S5 (60%: app-template
services, podinfo, Gitea, Keycloak, WordPress, Nextcloud with their bundled
databases and caches switched off), pinned charts from Helm and OCI sources,
values of 50 to 300 lines each, ``${ref:...}`` references from applications to the
platform's exports, ``dependsOn`` edges pointing down (or within a layer, to an
earlier release), and SOPS-encrypted-looking Secrets. The same seed gives the
same bytes. The stack renders and lints clean (``rail render && rail lint``).

``--changed PCT --from DIR`` copies DIR (without ``.git``) and changes the values
of PCT% of its releases the way day-to-day pull requests do (an image tag bumped,
an env var changed, a volume grown): nothing a diff rule blocks.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from charts import (
    APP_ROLES,
    S3_FIRST,
    SOURCES,
    WORDS,
    Kind,
    Release,
    Values,
    credential_keys,
    filler_env,
    get_path,
    kind_by_chart,
    kinds_of,
)
from sops import age_recipient, secret_manifest, sops_config
from yamltext import dump, line_count

SHARES = (("S2", 0.1), ("S3", 0.3))  # S5 takes the rest
MIN_RELEASES = 5
LINES = (50, 300, 110)  # values lines per release: triangular(low, high, mode)
LAYER_FOLDERS = {"S2": "s2", "S3": "s3", "S5": "s5"}


# --------------------------------------------------------------------------- planning


def layer_counts(total: int) -> dict[str, int]:
    counts = {layer: max(1, round(total * share)) for layer, share in SHARES}
    counts["S5"] = total - sum(counts.values())
    return counts


def _weighted(rng: random.Random, kinds: Sequence[Kind]) -> Kind:
    return rng.choices(list(kinds), weights=[kind.weight for kind in kinds])[0]


def _name(rng: random.Random, kind: Kind, index: int, width: int) -> tuple[str, str]:
    word = rng.choice(WORDS)
    if kind.layer == "S2":
        return f"{kind.key}-{index:0{width}d}", word
    middle = rng.choice(APP_ROLES) if kind.chart == "app-template" else kind.key
    return f"{word}-{middle}-{index:0{width}d}", word


def _pick_kinds(rng: random.Random, counts: dict[str, int]) -> list[Kind]:
    chosen: list[Kind] = [_weighted(rng, kinds_of("S2")) for _ in range(counts["S2"])]
    first = [kind_by_chart(chart) for chart in S3_FIRST][: counts["S3"]]
    chosen.extend(first)
    chosen.extend(_weighted(rng, kinds_of("S3")) for _ in range(counts["S3"] - len(first)))
    chosen.extend(_weighted(rng, kinds_of("S5")) for _ in range(counts["S5"]))
    return chosen


def _providers(releases: Sequence[Release], export: str, charts: Sequence[str]) -> list[Release]:
    return [r for r in releases if r.kind.chart in charts and r.kind.export and r.kind.export.name == export]


def _wire(rng: random.Random, release: Release, earlier: Sequence[Release]) -> bool:
    """Choose the releases this one refers to; False when a required one does not exist."""
    for need in release.kind.needs:
        if need.probability < 1.0 and rng.random() >= need.probability:
            continue
        providers = _providers(earlier, need.export, need.charts)
        if not providers:
            if need.probability >= 1.0:
                return False
            continue
        release.refs[need.export] = rng.choice(providers).name
    return True


def _depends(rng: random.Random, release: Release, earlier: Sequence[Release]) -> None:
    """Explicit dependsOn edges, always to an earlier release of the same or a lower layer."""
    if release.kind.chart == "gitea":
        release.depends_on.extend(sorted(set(release.refs.values())))
        return
    wanted = {"S2": ("S2", 0.3), "S3": ("S2", 0.5), "S5": ("S5", 0.2)}
    layer, probability = wanted[release.kind.layer]
    candidates = [r for r in earlier if r.kind.layer == layer and r.name not in release.refs.values()]
    if candidates and rng.random() < probability:
        release.depends_on.append(rng.choice(candidates).name)


def _secrets(release: Release) -> list[tuple[str, tuple[str, ...]]]:
    found = [(release.secret(suffix), keys) for suffix, keys in release.kind.secrets]
    if release.kind.chart in ("app-template", "podinfo"):
        found.append((release.secret("credentials"), credential_keys(release)))
    return found


def plan(rng: random.Random, total: int) -> list[Release]:
    counts = layer_counts(total)
    width = max(4, len(str(total)))
    fallback = kind_by_chart("app-template")
    releases: list[Release] = []
    for index, kind in enumerate(_pick_kinds(rng, counts)):
        name, word = _name(rng, kind, index, width)
        release = Release(index=index, name=name, kind=kind, namespace=rng.choice(kind.namespaces), word=word)
        if not _wire(rng, release, releases):
            release = Release(index=index, name=name, kind=fallback, namespace="apps", word=word)
            _wire(rng, release, releases)
        _depends(rng, release, releases)
        release.secrets = _secrets(release)
        release.target_lines = round(rng.triangular(*LINES))
        release.values_file = rng.random() < 0.75
        releases.append(release)
    return releases


# --------------------------------------------------------------------------- values


def merge(base: Values, override: Values) -> Values:
    result = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(result.get(key), dict):
            result[key] = merge(result[key], value)
        else:
            result[key] = value
    return result


def _list_at(values: Values, path: tuple[str, ...]) -> list[Any]:
    node = values
    for part in path[:-1]:
        node = node.setdefault(part, {})
    found: list[Any] = node.setdefault(path[-1], [])
    return found


def _pad(rng: random.Random, release: Release, file: Values, inline: Values) -> None:
    """Add plain env settings where the chart takes them until the values reach the target size."""
    missing = release.target_lines - line_count(file) - line_count(inline)
    if missing <= 1:
        return
    path = release.kind.pad_path
    holder = inline if isinstance(get_path(inline, path), list) else file
    entries = _list_at(holder, path)
    taken = {str(entry.get("name")) for entry in entries if isinstance(entry, dict)}
    prefix = "GITEA__APP__" if release.kind.chart == "gitea" else ""
    entries.extend(filler_env(rng, missing // 2, taken, prefix))


def values_of(rng: random.Random, release: Release) -> tuple[Values, Values]:
    """(values file, inline values); the values file is empty when the spec holds everything."""
    file, inline = release.kind.build(rng, release)
    _pad(rng, release, file, inline)
    if not release.values_file:
        return {}, merge(file, inline)
    return file, inline


# --------------------------------------------------------------------------- files


def stack_config() -> str:
    layers = [
        {
            "id": "S2",
            "name": "cluster",
            "description": "Cluster runtime (ingress, certificates, storage, CNI, Flux itself)",
            "namespaces": ["kube-system", "flux-system", "cert-manager", "ingress-nginx", "traefik", "longhorn-system"],
            "paths": ["releases/s2/**", "rendered/*/s2-*/**"],
            "owns": ["cluster-runtime"],
        },
        {
            "id": "S3",
            "name": "platform",
            "description": "Shared platform services (databases, caches, brokers, search, backups)",
            "namespaces": ["platform", "data"],
            "paths": ["releases/s3/**", "rendered/*/s3-*/**"],
            "owns": ["database", "cache", "broker", "search", "backup"],
        },
        {
            "id": "S5",
            "name": "apps",
            "description": "Applications",
            "namespaces": ["apps", "web", "tools"],
            "paths": ["releases/s5/**", "rendered/*/s5-*/**"],
            "owns": ["application"],
        },
    ]
    config: Values = {
        "version": 1,
        "name": "synthetic",
        "output": "rendered",
        "releases": "releases",
        "targets": ["flux"],
        "clusterDomain": "cluster.local",
        "layers": layers,
        "sources": [{"name": name, "type": kind, "url": url} for name, kind, url in SOURCES],
        "flux": {
            "namespace": "flux-system",
            "gitRepository": "flux-system",
            "sopsSecret": "sops-age",
            "release": {
                "interval": "10m",
                "timeout": "10m",
                "install": {"retries": 3},
                "upgrade": {"retries": 3, "strategy": "rollback", "cleanupOnFail": True},
                "driftDetection": "enabled",
            },
        },
    }
    return dump(config, ["rail stack config of a synthetic benchmark stack (bench/generate.py)."])


# Where backup-coverage (renderer/lint/rules/backup_coverage.py) reads whether a cache persists.
_PERSISTENCE = (("primary", "persistence", "enabled"), ("master", "persistence", "enabled"), ("persistence", "enabled"))
BACKUP_WAIVER = "synthetic benchmark data: nothing to restore"


def _stateful(kind: Any, values: list[Values]) -> bool:
    """Whether backup-coverage asks this release for a backup (the stack has none: the
    benchmark measures rail, not backups, so such a release carries a suppression)."""
    if kind.layer != "S3" or kind.service_class not in ("database", "broker", "cache"):
        return False
    if kind.service_class != "cache":
        return True
    switches = []
    for path in _PERSISTENCE:
        found: Any = None
        for layer in values:  # the values file, then inline values on top
            current: Any = layer
            for part in path:
                current = current.get(part) if isinstance(current, dict) else None
            found = current if isinstance(current, bool) else found
        if isinstance(found, bool):
            switches.append(found)
    return not switches or any(switches)


def _spec(
    release: Release, inline: Values, values_path: str | None, secret_paths: list[str], stateful: bool = False
) -> str:
    kind = release.kind
    spec: Values = {
        "name": release.name,
        "description": f"{kind.chart} for {release.word} (synthetic)",
        "layer": kind.layer,
        "namespace": release.namespace,
        "class": kind.service_class,
    }
    if kind.ha:
        spec["ha"] = True
    spec["chart"] = {"source": kind.source, "name": kind.chart, "version": kind.version}
    if values_path:
        spec["valuesFiles"] = [values_path]
    if secret_paths:
        spec["secrets"] = secret_paths
    if release.depends_on:
        spec["dependsOn"] = release.depends_on
    spec["values"] = inline
    if kind.export is not None:
        export = kind.export
        secret = [name for name, _ in release.secrets[:1]]
        spec["exports"] = {
            export.name: {"service": export.service, "port": export.port}
            | ({"secretName": secret[0]} if secret and kind.layer == "S3" else {})
        }
    if kind.ha:
        spec["flux"] = {"timeout": "15m"}
    if stateful:
        spec["suppress"] = {"backup-coverage": BACKUP_WAIVER}
    return dump(spec, [f"{kind.chart} release {release.name} ({kind.layer}), generated by bench/generate.py."])


def release_files(rng: random.Random, release: Release, recipient: str) -> Iterator[tuple[str, str]]:
    folder = LAYER_FOLDERS[release.kind.layer]
    file, inline = values_of(rng, release)
    values_path = f"values/{folder}/{release.name}.yaml" if file else None
    if values_path:
        yield values_path, dump(file, [f"Plain (non-secret) values of {release.name}, merged under the spec's."])
    secret_paths = []
    for name, keys in release.secrets:
        path = f"secrets/{folder}/{name}.sops.yaml"
        secret_paths.append(path)
        yield path, secret_manifest(rng, name, release.namespace, keys, recipient)
    stateful = _stateful(release.kind, [file or {}, inline])
    yield f"releases/{folder}/{release.name}.yaml", _spec(release, inline, values_path, secret_paths, stateful)


def stack_files(releases: int, seed: int) -> dict[str, str]:
    if releases < MIN_RELEASES:
        raise SystemExit(f"generate: --releases must be at least {MIN_RELEASES}")
    rng = random.Random(seed)
    recipient = age_recipient(rng)
    files = {"rail.yaml": stack_config(), ".sops.yaml": sops_config(recipient)}
    for release in plan(rng, releases):
        files.update(release_files(rng, release, recipient))
    return files


def write_files(out: Path, files: dict[str, str]) -> None:
    for relative in sorted(files):
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[relative].encode("utf-8"))


# --------------------------------------------------------------------------- --changed


_TAG = re.compile(r'^(\s*tag: "v?\d+\.\d+\.)(\d+)', re.MULTILINE)
_SIZE = re.compile(r'^(\s*size: ")(\d+)(Gi")', re.MULTILINE)
_ENV = re.compile(r"^(\s*- name: [A-Za-z_][A-Za-z0-9_]*\n\s+value: )(.+)$", re.MULTILINE)


def _bump_tag(text: str) -> str | None:
    match = _TAG.search(text)
    if not match:
        return None
    return text[: match.start(2)] + str(int(match.group(2)) + 1) + text[match.end(2) :]


def _grow_size(text: str) -> str | None:
    match = _SIZE.search(text)
    if not match:
        return None
    grown = int(match.group(2)) * 3 // 2 + 1
    return text[: match.start(2)] + str(grown) + text[match.end(2) :]


def _changed_value(raw: str) -> str:
    value = json.loads(raw) if raw.startswith('"') else raw
    flips = {"true": "false", "false": "true", "info": "debug", "debug": "info", "warn": "info"}
    if value in flips:
        new = flips[value]
    elif value.isdigit():
        new = str(int(value) + 1)
    else:
        new = f"{value}-next"
    return json.dumps(new)


def _change_env(text: str) -> str | None:
    for match in _ENV.finditer(text):
        raw = match.group(2)
        if "$" not in raw:
            return text[: match.start(2)] + _changed_value(raw) + text[match.end(2) :]
    return None


MUTATIONS = (_bump_tag, _change_env, _grow_size)


def _mutate(root: Path, spec: Path, first: int) -> str:
    """Apply one mutation (trying the others in turn) to the release's values file or spec."""
    values = root / "values" / spec.parent.name / spec.name
    targets = [path for path in (values, spec) if path.is_file()]
    for offset in range(len(MUTATIONS)):
        mutation = MUTATIONS[(first + offset) % len(MUTATIONS)]
        for path in targets:
            changed = mutation(path.read_text(encoding="utf-8"))
            if changed is not None:
                path.write_bytes(changed.encode("utf-8"))
                return path.relative_to(root).as_posix()
    raise SystemExit(f"generate: nothing to change in {spec}")


def write_changed(source: Path, out: Path, percent: float, seed: int) -> list[str]:
    """Copy ``source`` to ``out`` and change the values of ``percent``% of its releases."""
    shutil.copytree(source, out, ignore=shutil.ignore_patterns(".git"), dirs_exist_ok=True)
    specs = sorted(out.glob("releases/*/*.yaml"), key=lambda p: p.relative_to(out).as_posix())
    count = round(len(specs) * percent / 100)
    rng = random.Random(f"changed:{seed}:{percent}")
    chosen = sorted(rng.sample(range(len(specs)), count))
    return [_mutate(out, specs[index], position) for position, index in enumerate(chosen)]


def change_one(root: Path, seed: int) -> str:
    """Change one release's values in place, as a one-release commit does: the first
    release in the seed's order that has a values file (its values file, then its spec).
    Returns the changed file's path."""
    specs = sorted(root.glob("releases/*/*.yaml"), key=lambda p: p.relative_to(root).as_posix())
    if not specs:
        raise SystemExit(f"generate: no release specs under {root}")
    order = random.Random(f"one:{seed}").sample(specs, len(specs))
    with_values = [spec for spec in order if (root / "values" / spec.parent.name / spec.name).is_file()]
    return _mutate(root, (with_values or order)[0], 0)


# --------------------------------------------------------------------------- command line


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--releases", type=int, help="how many releases (at least 5)")
    parser.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same bytes")
    parser.add_argument("--out", type=Path, required=True, help="folder to write (must be empty or absent)")
    parser.add_argument("--changed", type=float, help="with --from: the percentage of releases to change")
    parser.add_argument("--from", dest="source", type=Path, help="with --changed: the stack to copy and change")
    args = parser.parse_args(argv)
    if (args.changed is None) != (args.source is None):
        parser.error("--changed and --from go together")
    if args.changed is None and args.releases is None:
        parser.error("--releases is required (unless --changed/--from)")
    if args.out.exists() and any(args.out.iterdir()):
        parser.error(f"--out {args.out} is not empty")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.changed is not None:
        changed = write_changed(args.source, args.out, args.changed, args.seed)
        print(f"changed {len(changed)} release(s) of {args.source} into {args.out}")
        return 0
    files = stack_files(args.releases, args.seed)
    write_files(args.out, files)
    print(f"wrote {len(files)} files for {args.releases} releases into {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
