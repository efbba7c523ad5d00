"""The Argo CD target: ``rendered/argo/``, one Application per release, one
AppProject per layer, and a root application (app of apps) that bootstraps it.

Ordering is by ``argocd.argoproj.io/sync-wave``: every layer after the one below,
and inside a layer every release after what it depends on or refers to.
``helm.valuesObject`` cannot read a Secret, so secrets reach a chart only
through its own existing-Secret keys; a spec that needs ``valuesFrom`` cannot be
rendered for Argo CD and is an input error. SOPS files are not copied: Argo CD
does not decrypt them (deploy them with KSOPS or your secret tooling).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..errors import InputError, Problem
from ..model import Layer, Release
from .claims import ClaimJob
from .target import Entries, OutputFile, Target

PROJECTS_FOLDER = "projects"
ROOT_FOLDER = "root"
SYNC_WAVE = "argocd.argoproj.io/sync-wave"
DEPENDS_ON = "railiance.io/depends-on"


class ArgoTarget(Target):
    name = "argo"
    # The root application creates namespaces before any Application syncs into them.
    namespace_annotations: ClassVar[Mapping[str, str]] = {SYNC_WAVE: "-2"}
    _waves: dict[str, int]  # each release's sync wave: set by folders() before the Jobs are rendered

    def folders(self) -> dict[str, Entries]:
        self._refuse_values_from()
        waves = sync_waves(self.stack.releases, self.graph, [layer.id for layer in self.config.layers])
        self._waves = waves
        present = self.present_layers()
        folders: dict[str, Entries] = {PROJECTS_FOLDER: [], ROOT_FOLDER: [self._root()]}
        for index, layer in enumerate(present):
            entries = folders.setdefault(layer.folder, [])
            if index == 0:
                entries.extend(self.namespaces())
            folders[PROJECTS_FOLDER].append(self._project(layer, index == 0))
            entries.extend(
                self._application(release, layer, waves[release.name])
                for release in self.stack.releases
                if release.layer == layer.id
            )
            entries.extend(self.claim_objects(layer))
            # Applied by the root application, each after the releases it backs up.
            entries.extend(
                self.backup_objects(
                    layer, lambda backup: {SYNC_WAVE: str(max(waves[c.release] for c in backup.covers) + 1)}
                )
            )
        return folders

    def files(self) -> list[OutputFile]:
        files = super().files()
        # The folder the root application reads: every folder but the root itself.
        top = sorted({f.path.split("/")[-2] for f in files} - {ROOT_FOLDER})
        content = self.document("kustomization.yaml.j2", {"resources": top}, self.config.path)
        return sorted([*files, self.output(f"{self.base}/kustomization.yaml", content)], key=lambda f: f.path)

    def claim_annotations(self, job: ClaimJob) -> dict[str, str]:
        # The root application applies the Job in its database's wave (the Job waits for the
        # database itself), so every later wave, the claimant's included, waits for it to complete.
        return {SYNC_WAVE: str(self._waves[job.database.name])}

    def _refuse_values_from(self) -> None:
        if not self.config.argo.repo_url:
            raise InputError(
                Problem(
                    path=self.config.path,
                    key_path="argo.repoURL",
                    message="the argo target needs the Git URL the root application reads",
                    hint="add argo: {repoURL: https://git.example.com/org/stack.git} to the stack config",
                )
            )
        problems = []
        for release in self.stack.releases:
            if not release.values_from:
                continue
            message = (
                f"release '{release.name}' takes values from a {release.values_from[0].kind}:"
                " Argo CD's helm.valuesObject cannot read one"
            )
            hint = "wire the secret through the chart's existingSecret keys instead, or render only --target flux"
            document = self.loaded.spec_documents.get(release.origin)
            problems.append(
                document.problem(("valuesFrom",), message, hint)
                if document is not None
                else Problem(path=release.origin, key_path="valuesFrom", message=message, hint=hint)
            )
        if problems:
            raise InputError(problems)

    def _application(self, release: Release, layer: Layer, wave: int) -> tuple[str, bytes]:
        source = self.config.source(release.chart.source)
        assert source is not None, "Release.from_data checked the source"
        annotations = {SYNC_WAVE: str(wave)}
        dependencies = []
        for name in self.graph[release.name]:
            if "/" in name:
                continue  # another repository's Application: no sync wave orders it (see README, Imports)
            dependency = self.stack.release(name)
            if dependency is None:
                continue  # lint and diff only (a lenient load): lint reports it as dangling-reference
            dependencies.append(f"{dependency.namespace}/{name}")
        if dependencies:
            # Argo CD has no dependsOn: the waves order the sync, this records why (for lint and diff).
            annotations[DEPENDS_ON] = ",".join(dependencies)
        if release.migration:
            annotations["railiance.io/migration"] = release.migration
        context = {
            "release": release,
            "source": source,
            "argo": self.config.argo,
            "project": layer.folder,
            "labels": self.labels(layer.id, **{"railiance.io/service-class": release.service_class}),
            "annotations": annotations,
            "values": self.resolution.values[release.name],
        }
        return (f"application-{release.name}.yaml", self.document("application.yaml.j2", context, release.origin))

    def _project(self, layer: Layer, cluster: bool) -> tuple[str, bytes]:
        server = self.config.argo.server
        namespaces = sorted(set(layer.namespaces) | {r.namespace for r in self.stack.releases if r.layer == layer.id})
        repos = sorted(f"{s.url}/*" if s.type == "oci" else s.url for s in self.config.sources)
        context = {
            "layer": layer,
            "argo": self.config.argo,
            "labels": self.labels(layer.id),
            "description": f"{layer.id} {layer.name}: {layer.description}".rstrip(": "),
            "source_repos": repos,
            "destinations": [{"server": server, "namespace": namespace} for namespace in namespaces],
            # Only the cluster layer may create cluster-scoped resources.
            "cluster_resources": [{"group": "*", "kind": "*"}] if cluster else [],
        }
        return (f"appproject-{layer.folder}.yaml", self.document("appproject.yaml.j2", context, self.config.path))

    def _root(self) -> tuple[str, bytes]:
        context = {
            "name": self.config.name,
            "argo": self.config.argo,
            "labels": self.labels(self.config.layers[0].id),
            "path": self.base,
        }
        return (
            f"application-{self.config.name}.yaml",
            self.document("root-application.yaml.j2", context, self.config.path),
        )


def sync_waves(
    releases: tuple[Release, ...], graph: dict[str, tuple[str, ...]], layer_order: list[str]
) -> dict[str, int]:
    """A wave per release: after every release of the layers below, and after
    everything it depends on or refers to in its own layer."""
    by_name = {release.name: release for release in releases}
    floors: dict[str, int] = {}
    waves: dict[str, int] = {}

    def wave(name: str) -> int:
        if name not in waves:
            release = by_name[name]
            dependencies = [wave(dep) + 1 for dep in graph.get(name, ()) if dep in by_name and dep in floors_ready(dep)]
            waves[name] = max([floors[release.layer], *dependencies])
        return waves[name]

    def floors_ready(dep: str) -> set[str]:
        # A dependency of a layer not yet placed (an upward edge, which lint reports) does not order.
        return {dep} if by_name[dep].layer in floors else set()

    floor = 0
    for layer_id in layer_order:
        floors[layer_id] = floor
        members = sorted(r.name for r in releases if r.layer == layer_id)
        for name in members:
            wave(name)
        if members:
            floor = max(waves[name] for name in members) + 1
    return waves
