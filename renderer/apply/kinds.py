"""What kustomize v5.5 knows about built-in kinds, as compact tables.

kustomize reads these from its embedded Kubernetes OpenAPI document (v1.21.2) and
its built-in transformer configurations. rail keeps only what changes a build:
which kinds are cluster-scoped, how lists merge in a strategic merge patch, which
fields labels, annotations and name references live in, and the output order.
Each table was checked against ``kubectl kustomize`` (kustomize v5.5.0); where
kustomize's data is odd (``FlowSchema`` is cluster-scoped only in ``v1beta1``; a
``ValidatingAdmissionPolicy`` is treated as namespaced, being newer than its
schema), the table copies the oddity, because Flux applies what kustomize builds.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Gvk:
    group: str
    version: str
    kind: str

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


def gvk_of(data: Mapping[str, Any]) -> Gvk:
    api_version = data.get("apiVersion")
    kind = data.get("kind")
    text = api_version if isinstance(api_version, str) else ""
    group, _, version = text.rpartition("/")
    return Gvk(group, version, kind if isinstance(kind, str) else "")


# --------------------------------------------------------------------------- scope

_CLUSTER_SCOPED: dict[tuple[str, str], frozenset[str]] = {
    ("", "Namespace"): frozenset({"v1"}),
    ("", "Node"): frozenset({"v1"}),
    ("", "PersistentVolume"): frozenset({"v1"}),
    ("", "ComponentStatus"): frozenset({"v1"}),
    ("rbac.authorization.k8s.io", "ClusterRole"): frozenset({"v1", "v1beta1"}),
    ("rbac.authorization.k8s.io", "ClusterRoleBinding"): frozenset({"v1", "v1beta1"}),
    ("apiextensions.k8s.io", "CustomResourceDefinition"): frozenset({"v1", "v1beta1"}),
    ("apiregistration.k8s.io", "APIService"): frozenset({"v1", "v1beta1"}),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration"): frozenset({"v1", "v1beta1"}),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration"): frozenset({"v1", "v1beta1"}),
    ("networking.k8s.io", "IngressClass"): frozenset({"v1", "v1beta1"}),
    ("scheduling.k8s.io", "PriorityClass"): frozenset({"v1", "v1beta1"}),
    ("storage.k8s.io", "StorageClass"): frozenset({"v1", "v1beta1"}),
    ("storage.k8s.io", "CSIDriver"): frozenset({"v1", "v1beta1"}),
    ("storage.k8s.io", "CSINode"): frozenset({"v1", "v1beta1"}),
    ("storage.k8s.io", "VolumeAttachment"): frozenset({"v1", "v1beta1"}),
    ("node.k8s.io", "RuntimeClass"): frozenset({"v1", "v1beta1"}),
    ("policy", "PodSecurityPolicy"): frozenset({"v1beta1"}),
    ("certificates.k8s.io", "CertificateSigningRequest"): frozenset({"v1", "v1beta1"}),
    ("flowcontrol.apiserver.k8s.io", "FlowSchema"): frozenset({"v1beta1"}),
    ("flowcontrol.apiserver.k8s.io", "PriorityLevelConfiguration"): frozenset({"v1beta1"}),
}


def is_cluster_scoped(gvk: Gvk) -> bool:
    """As kustomize decides it: known to its schema as cluster-scoped. Anything it does
    not know (every custom resource, ``ClusterIssuer`` included) is namespaced."""
    return gvk.version in _CLUSTER_SCOPED.get((gvk.group, gvk.kind), frozenset())


def is_core_namespace(gvk: Gvk) -> bool:
    return gvk == Gvk("", "v1", "Namespace")


def skips_name_affixes(gvk: Gvk) -> bool:
    """kinds ``namePrefix``/``nameSuffix`` leave alone (any group for the first two)."""
    return gvk.kind in ("CustomResourceDefinition", "Namespace") or (
        gvk.kind == "APIService" and gvk.group == "apiregistration.k8s.io"
    )


# --------------------------------------------------------------------------- strategic merge

# Groups whose kinds kustomize has a schema for: only their lists merge by key.
_BUILTIN_GROUPS = frozenset(
    {
        "",
        "apps",
        "batch",
        "extensions",
        "policy",
        "autoscaling",
        "networking.k8s.io",
        "rbac.authorization.k8s.io",
        "storage.k8s.io",
        "scheduling.k8s.io",
        "node.k8s.io",
        "coordination.k8s.io",
        "discovery.k8s.io",
        "events.k8s.io",
        "certificates.k8s.io",
        "admissionregistration.k8s.io",
        "apiextensions.k8s.io",
        "apiregistration.k8s.io",
        "flowcontrol.apiserver.k8s.io",
    }
)

# Where a kind keeps its pod spec.
POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Pod": ("spec",),
    "PodTemplate": ("template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Deployment": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}


@dataclass(frozen=True)
class ListMerge:
    """How a strategic merge patch merges a list.

    ``keys`` empty: a list of scalars merged as a set (``finalizers``). One key: items
    merge by it and the result follows the patch's order, then the other items.
    Several keys (``x-kubernetes-list-map-keys``): kyaml merges items whose keys all
    agree in place, puts new items first, and ignores a patch item whose keys differ
    from an existing item's only by one side leaving a key out (checked with
    ``kubectl kustomize``: a port patched without its ``protocol`` is a no-op).
    """

    keys: tuple[str, ...]


_CONTAINER_LISTS = {
    "ports": ListMerge(("containerPort", "protocol")),
    "env": ListMerge(("name",)),
    "volumeMounts": ListMerge(("mountPath",)),
    "volumeDevices": ListMerge(("devicePath",)),
}
_POD_LISTS = {
    "containers": ListMerge(("name",)),
    "initContainers": ListMerge(("name",)),
    "ephemeralContainers": ListMerge(("name",)),
    "volumes": ListMerge(("name",)),
    "imagePullSecrets": ListMerge(("name",)),
    "hostAliases": ListMerge(("ip",)),
    "topologySpreadConstraints": ListMerge(("topologyKey", "whenUnsatisfiable")),
}
_METADATA_LISTS = {
    "finalizers": ListMerge(()),
    "ownerReferences": ListMerge(("uid",)),
}


def list_merge(gvk: Gvk, path: tuple[str | int, ...]) -> ListMerge | None:
    """How the list at ``path`` (an object key path, list indices included) of a ``gvk``
    object merges; None: the patch replaces it (every list of an unknown kind)."""
    if gvk.group not in _BUILTIN_GROUPS:
        return None
    names = tuple(part for part in path if isinstance(part, str))
    if len(names) == 2 and names[0] == "metadata":
        return _METADATA_LISTS.get(names[1])
    if gvk.kind == "Service" and names == ("spec", "ports"):
        return ListMerge(("port", "protocol"))
    pod = POD_SPEC_PATHS.get(gvk.kind)
    if pod is None or names[: len(pod)] != pod:
        return None
    rest = names[len(pod) :]
    if len(rest) == 1:
        return _POD_LISTS.get(rest[0])
    if len(rest) == 2 and rest[0] in ("containers", "initContainers", "ephemeralContainers"):
        return _CONTAINER_LISTS.get(rest[1])
    return None


# --------------------------------------------------------------------------- field specs


@dataclass(frozen=True)
class FieldSpec:
    """kustomize's ``fieldSpec``: a path (lists are walked through) in objects of a
    type; empty ``group``/``version``/``kind`` match anything. ``create`` makes the
    missing mappings on the way."""

    path: tuple[str, ...]
    kind: str = ""
    group: str = ""
    version: str = ""
    create: bool = False

    def selects(self, gvk: Gvk) -> bool:
        return (
            (not self.kind or self.kind == gvk.kind)
            and (not self.group or self.group == gvk.group)
            and (not self.version or self.version == gvk.version)
        )


def _spec(path: str, kind: str = "", group: str = "", version: str = "", create: bool = False) -> FieldSpec:
    return FieldSpec(tuple(path.split("/")), kind, group, version, create)


_TEMPLATE = "spec/template/metadata"
_JOB_TEMPLATE = "spec/jobTemplate/spec/template/metadata"

# Labels on the object and its pod templates (``labels`` with ``includeTemplates``).
METADATA_LABELS = (
    _spec("metadata/labels", create=True),
    _spec(f"{_TEMPLATE}/labels", "ReplicationController", version="v1", create=True),
    _spec(f"{_TEMPLATE}/labels", "Deployment", create=True),
    _spec(f"{_TEMPLATE}/labels", "ReplicaSet", create=True),
    _spec(f"{_TEMPLATE}/labels", "DaemonSet", create=True),
    _spec(f"{_TEMPLATE}/labels", "StatefulSet", "apps", create=True),
    _spec("spec/volumeClaimTemplates/metadata/labels", "StatefulSet", "apps", create=True),
    _spec(f"{_TEMPLATE}/labels", "Job", "batch", create=True),
    _spec("spec/jobTemplate/metadata/labels", "CronJob", "batch", create=True),
    _spec(f"{_JOB_TEMPLATE}/labels", "CronJob", "batch", create=True),
)

_AFFINITY_SELECTORS = (
    *(
        f"spec/template/spec/affinity/{kind}/{term}/labelSelector/matchLabels"
        for kind in ("podAffinity", "podAntiAffinity")
        for term in (
            "preferredDuringSchedulingIgnoredDuringExecution/podAffinityTerm",
            "requiredDuringSchedulingIgnoredDuringExecution",
        )
    ),
    "spec/template/spec/topologySpreadConstraints/labelSelector/matchLabels",
)

# ``commonLabels`` and ``labels`` with ``includeSelectors``: selectors too.
COMMON_LABELS = (
    _spec("spec/selector", "Service", version="v1", create=True),
    _spec("spec/selector", "ReplicationController", version="v1", create=True),
    _spec("spec/selector/matchLabels", "Deployment", create=True),
    *(_spec(path, "Deployment", "apps") for path in _AFFINITY_SELECTORS),
    _spec("spec/selector/matchLabels", "ReplicaSet", create=True),
    _spec("spec/selector/matchLabels", "DaemonSet", create=True),
    _spec("spec/selector/matchLabels", "StatefulSet", "apps", create=True),
    *(_spec(path, "StatefulSet", "apps") for path in _AFFINITY_SELECTORS),
    _spec("spec/selector/matchLabels", "Job", "batch"),
    _spec("spec/jobTemplate/spec/selector/matchLabels", "CronJob", "batch"),
    _spec("spec/selector/matchLabels", "PodDisruptionBudget", "policy"),
    _spec("spec/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _spec("spec/ingress/from/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    _spec("spec/egress/to/podSelector/matchLabels", "NetworkPolicy", "networking.k8s.io"),
    *METADATA_LABELS,
)

COMMON_ANNOTATIONS = (
    _spec("metadata/annotations", create=True),
    _spec(f"{_TEMPLATE}/annotations", "ReplicationController", version="v1", create=True),
    _spec(f"{_TEMPLATE}/annotations", "Deployment", create=True),
    _spec(f"{_TEMPLATE}/annotations", "ReplicaSet", create=True),
    _spec(f"{_TEMPLATE}/annotations", "DaemonSet", create=True),
    _spec(f"{_TEMPLATE}/annotations", "StatefulSet", create=True),
    _spec(f"{_TEMPLATE}/annotations", "Job", "batch", create=True),
    _spec("spec/jobTemplate/metadata/annotations", "CronJob", "batch", create=True),
    _spec(f"{_JOB_TEMPLATE}/annotations", "CronJob", "batch", create=True),
)

# The namespace transformer's fields besides ``metadata/namespace`` (which it sets on
# every namespaced object, and which renames a core Namespace instead).
NAMESPACE_FIELDS = (
    _spec("spec/service/namespace", "APIService", "apiregistration.k8s.io", create=True),
    _spec("spec/conversion/webhook/clientConfig/service/namespace", "CustomResourceDefinition", "apiextensions.k8s.io"),
)

REPLICAS = (
    _spec("spec/replicas", "Deployment", create=True),
    _spec("spec/replicas", "ReplicationController", create=True),
    _spec("spec/replicas", "ReplicaSet", create=True),
    _spec("spec/replicas", "StatefulSet", "apps", create=True),
)


# --------------------------------------------------------------------------- name references


@dataclass(frozen=True)
class NameReference:
    """Fields that hold the name of an object of ``target`` (kustomize's ``nameReference``)."""

    target: FieldSpec  # only its kind, group and version are used
    fields: tuple[FieldSpec, ...]


def _pod_fields(*relative: str) -> tuple[FieldSpec, ...]:
    specs = []
    for kind, pod in POD_SPEC_PATHS.items():
        if kind == "ReplicationController":
            continue  # not in kustomize's list for ConfigMaps and Secrets
        for path in relative:
            specs.append(FieldSpec((*pod, *path.split("/")), kind, version="v1" if kind == "Pod" else ""))
    return tuple(specs)


def _workload_fields(relative: str, kinds: tuple[str, ...]) -> tuple[FieldSpec, ...]:
    return tuple(FieldSpec((*POD_SPEC_PATHS[kind], *relative.split("/")), kind) for kind in kinds)


_WORKLOADS = ("Pod", "StatefulSet", "Deployment", "ReplicationController", "CronJob", "Job", "DaemonSet")
_CONTAINERS = ("containers", "initContainers")
_SCALED = ("Deployment", "ReplicationController", "ReplicaSet", "StatefulSet")

NAME_REFERENCES = (
    *(
        NameReference(_spec("", kind), (_spec("spec/scaleTargetRef/name", "HorizontalPodAutoscaler"),))
        for kind in _SCALED
    ),
    NameReference(
        _spec("", "ConfigMap", version="v1"),
        (
            *_pod_fields(
                "volumes/configMap/name",
                *(f"{c}/env/valueFrom/configMapKeyRef/name" for c in _CONTAINERS),
                *(f"{c}/envFrom/configMapRef/name" for c in _CONTAINERS),
                "volumes/projected/sources/configMap/name",
            ),
            _spec("spec/configSource/configMap", "Node"),
            _spec("rules/resourceNames", "Role"),
            _spec("rules/resourceNames", "ClusterRole"),
        ),
    ),
    NameReference(
        _spec("", "Secret", version="v1"),
        (
            *_pod_fields(
                "volumes/secret/secretName",
                *(f"{c}/env/valueFrom/secretKeyRef/name" for c in _CONTAINERS),
                *(f"{c}/envFrom/secretRef/name" for c in _CONTAINERS),
                "imagePullSecrets/name",
                "volumes/projected/sources/secret/name",
            ),
            _spec("spec/tls/secretName", "Ingress"),
            _spec("imagePullSecrets/name", "ServiceAccount"),
            _spec("parameters/secretName", "StorageClass"),
            _spec("parameters/adminSecretName", "StorageClass"),
            _spec("parameters/userSecretName", "StorageClass"),
            _spec("parameters/secretRef", "StorageClass"),
            _spec("rules/resourceNames", "Role"),
            _spec("rules/resourceNames", "ClusterRole"),
            _spec(
                "spec/template/spec/containers/env/valueFrom/secretKeyRef/name", "Service", "serving.knative.dev", "v1"
            ),
            _spec("spec/azureFile/secretName", "PersistentVolume"),
        ),
    ),
    NameReference(
        _spec("", "Service", version="v1"),
        (
            _spec("spec/serviceName", "StatefulSet", "apps"),
            _spec("spec/rules/http/paths/backend/serviceName", "Ingress"),
            _spec("spec/backend/serviceName", "Ingress"),
            _spec("spec/rules/http/paths/backend/service/name", "Ingress"),
            _spec("spec/defaultBackend/service/name", "Ingress"),
            _spec("spec/service/name", "APIService", "apiregistration.k8s.io"),
            _spec("webhooks/clientConfig/service", "ValidatingWebhookConfiguration", "admissionregistration.k8s.io"),
            _spec("webhooks/clientConfig/service", "MutatingWebhookConfiguration", "admissionregistration.k8s.io"),
            _spec("spec/rules/backendRefs/name", "HTTPRoute"),
        ),
    ),
    NameReference(
        _spec("", "Role", "rbac.authorization.k8s.io"),
        (_spec("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),),
    ),
    NameReference(
        _spec("", "ClusterRole", "rbac.authorization.k8s.io"),
        (
            _spec("roleRef/name", "RoleBinding", "rbac.authorization.k8s.io"),
            _spec("roleRef/name", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
        ),
    ),
    NameReference(
        _spec("", "ServiceAccount", version="v1"),
        (
            _spec("subjects", "RoleBinding", "rbac.authorization.k8s.io"),
            _spec("subjects", "ClusterRoleBinding", "rbac.authorization.k8s.io"),
            *_workload_fields("serviceAccountName", _WORKLOADS),
        ),
    ),
    NameReference(
        _spec("", "PersistentVolumeClaim", version="v1"),
        _workload_fields("volumes/persistentVolumeClaim/claimName", _WORKLOADS),
    ),
    NameReference(
        _spec("", "PersistentVolume", version="v1"),
        (_spec("spec/volumeName", "PersistentVolumeClaim"), _spec("rules/resourceNames", "ClusterRole")),
    ),
    NameReference(
        _spec("", "StorageClass", "storage.k8s.io", "v1"),
        (
            _spec("spec/storageClassName", "PersistentVolume"),
            _spec("spec/storageClassName", "PersistentVolumeClaim"),
            _spec("spec/volumeClaimTemplates/spec/storageClassName", "StatefulSet"),
        ),
    ),
    NameReference(
        _spec("", "PriorityClass", "scheduling.k8s.io", "v1"),
        _workload_fields("priorityClassName", _WORKLOADS),
    ),
)


# --------------------------------------------------------------------------- output order

_ORDER_FIRST = (
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
)
_ORDER_LAST = ("MutatingWebhookConfiguration", "ValidatingWebhookConfiguration")
_RANK = {
    **{kind: index - len(_ORDER_FIRST) for index, kind in enumerate(_ORDER_FIRST)},
    **{kind: index + 1 for index, kind in enumerate(_ORDER_LAST)},
}


def legacy_order(gvk: Gvk, name: str, namespace: str) -> tuple[int, str, str]:
    """kustomize's default ("legacy") output order: by kind (Namespaces first, webhooks
    last), then type, then namespace and name."""
    type_text = "_".join((gvk.group or "~G", gvk.version or "~V", gvk.kind or "~K"))
    id_text = "|".join(
        (
            f"{gvk.kind or '[noKind]'}.{gvk.version or '[noVer]'}.{gvk.group or '[noGrp]'}",
            namespace or "~X",
            name or "~N",
        )
    )
    return (_RANK.get(gvk.kind, 0), type_text, id_text)
