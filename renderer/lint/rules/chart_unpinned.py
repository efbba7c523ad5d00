"""chart-unpinned: a missing, ranged or ``*`` chart version, or an OCI ``latest`` tag.

A chart version that is not one exact release makes the cluster's state depend
on the day Flux reconciles: a new chart release is installed without anyone
reviewing it, rollbacks go to a version nobody chose, and two clusters built
from the same commit run different charts. What counts as unpinned:

- a HelmRelease ``spec.chart.spec.version`` that is missing (Flux then takes the
  latest release), ``*``, or a range (``^1.2``, ``~1.2``, ``>=1.0.0``, ``1.x``,
  ``1.2.*``, ``1.0.0 - 2.0.0``, ``a || b``): anything but one exact SemVer
  version. Charts from a ``GitRepository`` or ``Bucket`` are skipped: Flux
  ignores the version there, the source revision pins the chart;
- an ``OCIRepository`` a HelmRelease uses through ``chartRef``: no ``spec.ref``
  (Flux pulls ``latest``), ``ref.tag: latest``, a ``ref`` with neither tag,
  semver nor digest, or a ``ref.semver`` range. ``ref.digest`` is pinned;
- a ``HelmChart``'s ``spec.version`` (missing means ``*``), whether a HelmRelease
  uses it through ``chartRef`` or it stands alone;
- an Argo CD Application's ``spec.source.targetRevision``: for a Helm chart
  source (``chart:`` set), missing, ``*``, a range (``12.*``, ``>=1.0.0``) or
  anything but one exact version; for a native OCI source (``repoURL:
  oci://.../chart``, the targetRevision is the tag), missing, ``latest`` or a
  range. A digest (``sha256:...``) pins an OCI chart. Git sources are not Helm
  releases here: their revision is a commit, tag or branch.

A version that is a Flux ``${VAR}`` substitution is only known when Flux
reconciles: it is noted, not reported. A source that names nothing is the job of
``dangling-reference``.

Fails::

    spec:
      chart:
        spec:
          chart: gitea
          version: ^12.0.0          # any 12.x release
          sourceRef: {kind: HelmRepository, name: gitea}
    ---
    kind: OCIRepository
    spec:
      url: oci://registry-1.docker.io/bitnamicharts/postgresql-ha
      ref: {tag: latest}

Passes::

    spec:
      chart:
        spec: {chart: gitea, version: 12.4.0, sourceRef: {kind: HelmRepository, name: gitea}}
    ---
    kind: OCIRepository
    spec:
      url: oci://registry-1.docker.io/bitnamicharts/postgresql-ha
      ref: {tag: "16.3.4"}          # or {digest: "sha256:..."}
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ...catalog.versions import is_exact
from ..finding import ERROR, Finding, Location, ObjectRef
from ..graph import SOURCE_GROUP, ReleaseGraph, ReleaseNode
from ..manifests import Manifest
from ..rule import GRAPH_WIDE, LintContext, Rule

# Chart sources whose revision pins the chart: Flux ignores ``version`` for them.
_REVISION_SOURCES = frozenset({"GitRepository", "Bucket"})
_SUBSTITUTION = "${"

_HINT = "pin one exact chart version, such as 1.2.3"
_OCI_HINT = "set spec.ref.tag to an exact chart version (such as 1.2.3), or pin spec.ref.digest"


def _version_problem(version: object) -> str | None:
    """Why a chart ``version`` is not a pin, or None when it is one."""
    if version is None or (isinstance(version, str) and not version.strip()):
        return "no chart version: Flux installs the latest release and upgrades to every new one"
    text = str(version).strip()
    if is_exact(text):
        return None
    if text == "*":
        return "chart version '*' accepts any release: Flux upgrades to every new one"
    return f"chart version '{text}' is a range, not one release: Flux upgrades to any release it matches"


def _substituted(value: object) -> bool:
    return isinstance(value, str) and _SUBSTITUTION in value


def _locate(manifest: Manifest, key_path: tuple[str, ...]) -> Location:
    return Location(*manifest.document.where(key_path))


def _oci_problem(oci: Manifest) -> tuple[str | None, tuple[str, ...], object]:
    """(why the OCIRepository is not pinned, the key to point at, the value checked)."""
    ref = oci.spec().get("ref")
    if not isinstance(ref, dict):
        return "has no spec.ref: Flux pulls the 'latest' tag", ("spec", "url"), None
    if ref.get("digest"):
        return None, (), None
    semver = ref.get("semver")
    if semver is not None:
        if _substituted(semver):
            return None, ("spec", "ref", "semver"), semver
        if is_exact(str(semver).strip()):
            return None, (), None
        return (
            f"ref.semver '{str(semver).strip()}' is a range, not one release: Flux pulls any tag it matches",
            ("spec", "ref", "semver"),
            semver,
        )
    tag = ref.get("tag")
    if tag is None or (isinstance(tag, str) and not tag.strip()):
        return "has a spec.ref with no tag, semver or digest: Flux pulls the 'latest' tag", ("spec", "ref"), None
    if str(tag).strip() == "latest":
        return "pulls the 'latest' tag: whatever was pushed last", ("spec", "ref", "tag"), tag
    return None, ("spec", "ref", "tag"), tag


def _helmchart_problem(chart: Manifest) -> tuple[str | None, tuple[str, ...], object]:
    spec = chart.spec()
    version = spec.get("version")
    key = ("spec", "version") if "version" in spec else ("spec", "chart")
    if _substituted(version):
        return None, key, version
    return _version_problem(version), key, version


def _note_substitution(graph: ReleaseGraph, where: Location, what: str) -> None:
    graph.notes.append(
        f"{where.path}:{where.line or 0}: {what} is a ${{VAR}} substitution, known only when Flux reconciles:"
        " not checked for a pin"
    )


def _through_chart_ref(graph: ReleaseGraph, node: ReleaseNode, source: ObjectRef) -> Iterator[Finding]:
    target = graph.objects.get(source)
    if target is None:
        return  # dangling-reference reports a source that names nothing
    if source.kind == "OCIRepository":
        problem, key, value = _oci_problem(target)
        described = f"OCIRepository '{source.name}'"
        hint = _OCI_HINT
    else:
        problem, key, value = _helmchart_problem(target)
        described = f"HelmChart '{source.name}'"
        hint = _HINT + " in the HelmChart's spec.version"
    # Locating costs a parse of the file: only where something is reported.
    if problem is None:
        if _substituted(value):
            _note_substitution(
                graph, _locate(target, key) if key else Location(target.path), f"the chart version of {described}"
            )
        return
    location = _locate(target, key) if key else Location(target.path)
    release_key = graph.node_location(node, ("spec", "chartRef"))
    related: tuple[Location, ...] = (release_key,)
    if node.spec is not None:
        spec_location, _ = graph.spec_location(node, ("chart", "version"))
        related = (spec_location, release_key)
    yield Finding(
        rule=RULE.id,
        message=f"chart of release '{node.ref.name}' is not pinned: {described} {problem}",
        location=location,
        related=related,
        object=node.ref,
        hint=hint,
    )


def _chart_spec(graph: ReleaseGraph, node: ReleaseNode) -> Iterator[Finding]:
    chart = node.manifest.spec().get("chart")
    chart_spec = chart.get("spec") if isinstance(chart, dict) else None
    if not isinstance(chart_spec, dict):
        return
    source_ref = chart_spec.get("sourceRef")
    if isinstance(source_ref, dict) and source_ref.get("kind") in _REVISION_SOURCES:
        return
    version: Any = chart_spec.get("version")
    key = ("spec", "chart", "spec", "version") if "version" in chart_spec else ("spec", "chart", "spec", "chart")
    if _substituted(version):
        _note_substitution(graph, graph.node_location(node, key), f"the chart version of HelmRelease '{node.ref.name}'")
        return
    problem = _version_problem(version)
    if problem is None:
        return
    location, related = graph.node_location(node, key), tuple[Location, ...]()
    if node.spec is not None:
        location, related = graph.spec_location(node, ("chart", "version"), key)
    yield Finding(
        rule=RULE.id,
        message=f"chart '{node.chart.name or '?'}' of release '{node.ref.name}' is not pinned: {problem}",
        location=location,
        related=related,
        object=node.ref,
        hint=_HINT + " in spec.chart.spec.version",
    )


_RANGE = re.compile(r"[*^~<>=|, ]|(^|\.)[xX](\.|$)")
_DIGEST = re.compile(r"^sha256:[0-9a-fA-F]{64}$")
_ARGO_REVISION = ("spec", "source", "targetRevision")


def _argo_problem(revision: object, oci: bool) -> str | None:
    """Why an Application's ``targetRevision`` does not pin its chart, or None when it does."""
    text = str(revision).strip() if revision is not None else ""
    if not text:
        return "no targetRevision: no chart version is pinned, Argo CD takes whatever the source offers"
    if is_exact(text) or (oci and _DIGEST.match(text)):
        return None
    if text == "*":
        return "targetRevision '*' accepts any chart release: Argo CD syncs every new one"
    if oci and text == "latest":
        return "targetRevision 'latest' pulls whatever tag was pushed last"
    if _RANGE.search(text):
        return f"targetRevision '{text}' is a range, not one release: Argo CD syncs to any release it matches"
    if oci:
        return None  # a plain tag: pinned, as an OCIRepository's ref.tag
    return f"targetRevision '{text}' is not one exact chart version"


def _argo_source(graph: ReleaseGraph, node: ReleaseNode) -> Iterator[Finding]:
    source = node.manifest.spec().get("source")
    if not isinstance(source, dict):
        return
    oci = not isinstance(source.get("chart"), str)  # graph.build: a chart name, or a native OCI source
    problem = _argo_problem(source.get("targetRevision"), oci)
    if problem is None:
        return
    key = _ARGO_REVISION if "targetRevision" in source else ("spec", "source", "repoURL")
    location, related = graph.node_location(node, key), tuple[Location, ...]()
    if node.spec is not None:
        location, related = graph.spec_location(node, ("chart", "version"), key)
    tag = " (the OCI tag)" if oci else ""
    yield Finding(
        rule=RULE.id,
        message=f"chart '{node.chart.name or '?'}' of release '{node.ref.name}' is not pinned: {problem}",
        location=location,
        related=related,
        object=node.ref,
        hint=_HINT + f" in spec.source.targetRevision{tag}" + (", or pin a digest (sha256:...)" if oci else ""),
    )


def check(context: LintContext) -> Iterator[Finding]:
    graph = context.graph
    used: set[ObjectRef] = set()
    for node in graph.releases.values():
        source = node.chart.source
        if node.ref.kind == "Application":
            yield from _argo_source(graph, node)
        elif "chartRef" in node.manifest.spec():
            if source is not None and source.kind in ("OCIRepository", "HelmChart"):
                used.add(source)
                yield from _through_chart_ref(graph, node, source)
        else:
            yield from _chart_spec(graph, node)
    # A HelmChart no release points at is still a chart source-controller fetches.
    for ref, manifest in graph.objects.items():
        if manifest.kind != "HelmChart" or manifest.group != SOURCE_GROUP or ref in used:
            continue
        problem, key, value = _helmchart_problem(manifest)
        location = _locate(manifest, key)
        if problem is None:
            if _substituted(value):
                _note_substitution(graph, location, f"the chart version of HelmChart '{ref.name}'")
            continue
        yield Finding(
            rule=RULE.id,
            message=f"HelmChart '{ref.name}' is not pinned: {problem}",
            location=location,
            object=ref,
            hint=_HINT + " in spec.version",
        )


RULE = Rule(
    id="chart-unpinned",
    scope=GRAPH_WIDE,  # a chartRef names another object
    severity=ERROR,
    summary="a missing, ranged or * chart version, or an OCI latest tag",
    check=check,
    doc=__doc__ or "",
)
