"""The Flux target: one folder per layer under ``rendered/flux/``, plus the layer
Kustomizations that apply them in order (S2, then S3, then S5).

With ``flux.serviceAccounts`` (Flux multi-tenancy), each upper layer's
Kustomization and HelmReleases run as service accounts whose RBAC, rendered in
the cluster layer, reaches only that layer's namespaces: the cluster itself then
refuses what the linter forbids.
"""

from __future__ import annotations

from functools import partial
from typing import Any

from ..memo import cached_property
from ..model import Backup, Layer, Release
from .crossrefs import by_name
from .digests import digests_of
from .target import Entries, OutputFile, Target, header

LAYERS_FOLDER = "layers"
RECONCILER = "rail-reconciler"

__all__ = ["LAYERS_FOLDER", "FluxTarget", "OutputFile", "header"]


class FluxTarget(Target):
    name = "flux"

    def folders(self) -> dict[str, Entries]:
        folders: dict[str, Entries] = {}
        present = self.present_layers()
        for index, layer in enumerate(present):
            entries = folders.setdefault(layer.folder, [])
            if index == 0:
                entries.extend(self._cluster_objects(present))
            for release in self.stack.releases:
                if release.layer == layer.id:
                    own = self.recorded(self._release_inputs(release, layer), partial(self._rendered, release, layer))
                    entries.extend(own)
                    entries.extend(self._secret_entries(release.secrets))
            entries.extend(self.claim_objects(layer))
            entries.extend(self._claim_secrets(layer))
            entries.extend(self.backup_objects(layer))
            for backup in self.stack.backups:
                if backup.layer == layer.id:
                    entries.extend(self._secret_entries(backup.secrets))
        folders[LAYERS_FOLDER] = self._layer_kustomizations(present)
        return folders

    def _cluster_objects(self, present: list[Layer]) -> Entries:
        """What the lowest layer owns for the others to reconcile: namespaces, shared
        sources, and (multi-tenancy) the service accounts and their RBAC."""
        entries = self.namespaces()
        first = self.config.layers[0]
        if not self.config.flux_service_accounts:
            for source in self._helm_sources({r.chart.source for r in self.stack.releases}):
                entries.append(
                    self._helm_repository(
                        source, self.config.flux_namespace, first.id, f"helmrepository-{source.name}.yaml"
                    )
                )
            return entries
        for layer in present[1:]:
            account = self._layer_account(layer)
            entries.append(
                (
                    f"serviceaccount-{self.config.flux_namespace}-{account}.yaml",
                    self.document(
                        "serviceaccount.yaml.j2",
                        {"name": account, "namespace": self.config.flux_namespace, "labels": self.labels(layer.id)},
                        self.config.path,
                    ),
                )
            )
            for namespace in sorted({r.namespace for r in self.stack.releases if r.layer == layer.id}):
                labels = self.labels(layer.id)
                entries.append(
                    (
                        f"serviceaccount-{namespace}-{RECONCILER}.yaml",
                        self.document(
                            "serviceaccount.yaml.j2",
                            {"name": RECONCILER, "namespace": namespace, "labels": labels},
                            self.config.path,
                        ),
                    )
                )
                subjects = [
                    {"kind": "ServiceAccount", "name": account, "namespace": self.config.flux_namespace},
                    {"kind": "ServiceAccount", "name": RECONCILER, "namespace": namespace},
                ]
                context = {"name": account, "namespace": namespace, "subjects": subjects, "labels": labels}
                entries.append(
                    (
                        f"rolebinding-{namespace}-{account}.yaml",
                        self.document("rolebinding.yaml.j2", context, self.config.path),
                    )
                )
        return entries

    def _layer_account(self, layer: Layer) -> str:
        return f"rail-{layer.folder}"

    def _helm_sources(self, names: set[str]) -> list[Any]:
        return [source for source in self.config.sources if source.type == "helm" and source.name in names]

    def _helm_repository(self, source: Any, namespace: str, layer_id: str, file_name: str) -> tuple[str, bytes]:
        context = {
            "source": source,
            "namespace": namespace,
            "interval": self.config.flux_defaults.interval,
            "labels": self.labels(layer_id),
        }
        return (file_name, self.document("helmrepository.yaml.j2", context, self.config.path))

    def _release_inputs(self, release: Release, layer: Layer) -> tuple[Any, ...] | None:
        """What :meth:`_rendered` reads, by digests where the render keys know them (the
        release by its spec and the config, its resolved values by their files and the
        endpoints they read); None when one is not known so."""
        values = self.resolution.values[release.name]
        known = digests_of({"release": release, "values": values, "config": self.config})
        if len(known) != 3:
            return None
        depends_on = tuple(tuple(sorted(item.items())) for item in self._depends_on(release))
        return (
            self.name,
            self.templates.fingerprint,
            known["release"],
            known["values"],
            known["config"],
            layer.id,
            self._first_in_namespace(release),
            depends_on,
        )

    def _rendered(self, release: Release, layer: Layer) -> Entries:
        """A release's own objects (its Secrets are passed through, see :meth:`_secret_entries`)."""
        source = self.config.source(release.chart.source)
        assert source is not None, "Release.from_data checked the source"
        labels = self.labels(layer.id, **{"railiance.io/service-class": release.service_class})
        entries = []
        if source.type == "oci":
            context = {
                "name": release.name,
                "release": release,
                "url": f"{source.url}/{release.chart.name}",
                "labels": labels,
            }
            entries.append(
                (f"ocirepository-{release.name}.yaml", self.document("ocirepository.yaml.j2", context, release.origin))
            )
        tenant = self.config.flux_service_accounts
        if tenant and source.type == "helm" and self._first_in_namespace(release):
            # No cross-namespace source references under multi-tenancy: a copy per namespace.
            file_name = f"helmrepository-{release.namespace}-{source.name}.yaml"
            entries.append(self._helm_repository(source, release.namespace, layer.id, file_name))
        context = {
            "release": release,
            "source": source,
            "oci_repository": release.name,
            "source_namespace": release.namespace if tenant else self.config.flux_namespace,
            "service_account": RECONCILER if tenant else "",
            "labels": labels,
            "depends_on": self._depends_on(release),
            "values_from": [_values_from(item) for item in release.values_from],
            "values": self.resolution.values[release.name],
        }
        entries.append(
            (f"helmrelease-{release.name}.yaml", self.document("helmrelease.yaml.j2", context, release.origin))
        )
        return entries

    def _secret_entries(self, paths: tuple[str, ...]) -> Entries:
        entries = []
        for path in paths:
            secret = self.loaded.secret_files[path]
            # Passed through byte for byte: re-encoding would break the SOPS MAC.
            entries.append((f"secret-{secret.name}.sops.yaml", secret.raw))
            if self.keep_documents:
                self._written.setdefault(secret.raw, secret.document)
        return entries

    def _claim_secrets(self, layer: Layer) -> Entries:
        """The password Secret of each database claim, beside the Job that reads it."""
        entries: Entries = []
        for release in self.stack.releases:
            claim = release.needs.database
            database = self.stack.release(claim.release) if claim else None
            if claim is None or database is None or database.layer != layer.id:
                continue
            secret = self.loaded.secret_files[claim.password_secret]
            entries.append((f"secret-{secret.name}.sops.yaml", secret.raw))
            if self.keep_documents:
                self._written.setdefault(secret.raw, secret.document)
        return entries

    def _first_in_namespace(self, release: Release) -> bool:
        """Whether ``release`` is the first of its namespace to use its chart source."""
        return self._first_users.get((release.namespace, release.chart.source)) is release

    @cached_property
    def _first_users(self) -> dict[tuple[str, str], Release]:
        first: dict[tuple[str, str], Release] = {}
        for release in self.stack.releases:
            first.setdefault((release.namespace, release.chart.source), release)
        return first

    def _depends_on(self, release: Release) -> list[dict[str, str]]:
        result = []
        for name in self.graph[release.name]:
            if "/" in name:
                result.extend(self._imported_dependency(release, name))
                continue
            dependency = self.stack.release(name)
            if dependency is None:
                continue  # lint and diff only (a lenient load): lint reports it as dangling-reference
            item = {"name": name}
            if dependency.namespace != release.namespace:
                item["namespace"] = dependency.namespace
            result.append(item)
        return result

    def kustomization_name(self, layer: Layer) -> str:
        return kustomization_name(self.config.name, layer, bool(self.loaded.imports))

    def _imported_layers(self) -> list[dict[str, str]]:
        """The lowest layer waits for each imported stack's top layer, across repositories
        (a Kustomization ``dependsOn`` by namespace and name, as Flux allows)."""
        result = []
        for imported in self.loaded.imports:
            flux = imported.interface.flux
            if flux is None or not flux.kustomizations:
                continue
            item = {"name": flux.kustomizations[-1]}
            if flux.namespace != self.config.flux_namespace:
                item["namespace"] = flux.namespace
            result.append(item)
        return sorted(result, key=lambda item: (item.get("namespace", ""), item["name"]))

    def _imported_dependency(self, release: Release, qualified: str) -> list[dict[str, str]]:
        """A release of an imported stack, the way Flux refers across repositories: by
        namespace and name (both stacks reconcile into one cluster). Unknown: lint reports it."""
        import_name, name = qualified.split("/", 1)
        imported = by_name(self.loaded).get(import_name)
        target = imported.interface.release(name) if imported else None
        if target is None:
            return []
        item = {"name": name}
        if target.namespace != release.namespace:
            item["namespace"] = target.namespace
        return [item]

    def _layer_kustomizations(self, present: list[Layer]) -> list[tuple[str, bytes]]:
        entries = []
        previous: Layer | None = None
        for layer in present:
            specs: list[Release | Backup] = [*self.stack.releases, *self.stack.backups]
            decrypt = any(spec.secrets for spec in specs if spec.layer == layer.id) or bool(self._claim_secrets(layer))
            context = {
                "layer": layer,
                "flux_namespace": self.config.flux_namespace,
                "labels": self.labels(layer.id),
                "interval": self.config.flux_defaults.interval,
                "timeout": self.config.flux_defaults.timeout,
                "path": f"./{self.base}/{layer.folder}",
                "git_repository": self.config.flux_git_repository,
                "name": self.kustomization_name(layer),
                "depends_on": [{"name": self.kustomization_name(previous)}] if previous else self._imported_layers(),
                "decrypt": decrypt,
                "sops_secret": self.config.flux_sops_secret,
                "service_account": self._layer_account(layer) if self.config.flux_service_accounts and previous else "",
            }
            content = self.document("layer-kustomization.yaml.j2", context, self.config.path)
            entries.append((f"kustomization-{layer.folder}.yaml", content))
            previous = layer
        return entries


def kustomization_name(stack: str, layer: Layer, imports: bool) -> str:
    """A layer's Kustomization: ``s3-platform``; in a stack that imports others,
    ``<stack>-s3-platform``, so the repositories of one cluster never share a name."""
    return f"{stack}-{layer.folder}" if imports else layer.folder


def _values_from(item: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"kind": item.kind, "name": item.name}
    if item.values_key:
        result["valuesKey"] = item.values_key
    if item.target_path:
        result["targetPath"] = item.target_path
    if item.optional:
        result["optional"] = True
    return result
