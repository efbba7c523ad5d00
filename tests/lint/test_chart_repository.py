"""The chart's repository reaches the catalog: ``ChartInfo.repository`` is the URL of
the chart's source (a HelmRepository or OCIRepository among the linted manifests, or
an Argo CD Application's ``repoURL``), and the rules that read the catalog look the
chart up by it, so one publisher's chart is not checked as another's."""

from __future__ import annotations

from typing import Any

import pytest

from renderer.lint.finding import Finding
from renderer.lint.graph import ReleaseGraph, build
from renderer.lint.manifests import parse
from renderer.lint.rule import LintContext
from renderer.lint.rules import chart_generated_secret
from renderer.model import StackConfig

VALKEY_IO = "https://valkey.io/valkey-helm/"
BITNAMI_OCI = "oci://registry-1.docker.io/bitnamicharts"


def _graph(text: str) -> ReleaseGraph:
    return build(StackConfig.default(), parse(text, "repo.yaml"))


def _release(source: str, chart: str = "valkey", values: str = "{}") -> str:
    return f"""\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {{name: cache, namespace: platform}}
spec:
  interval: 10m
  chart:
    spec: {{chart: {chart}, version: 1.0.0, sourceRef: {source}}}
  values: {values}
"""


def _helm_repository(name: str, url: str, namespace: str = "platform") -> str:
    return f"""\
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmRepository
metadata: {{name: {name}, namespace: {namespace}}}
spec: {{interval: 1h, url: "{url}"}}
"""


def _application(repo_url: str, chart: str | None = "valkey", values: str = "{}") -> str:
    chart_line = f"    chart: {chart}\n" if chart else ""
    return f"""\
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {{name: cache, namespace: argocd}}
spec:
  project: default
  source:
    repoURL: "{repo_url}"
{chart_line}    targetRevision: 1.0.0
    helm:
      valuesObject: {values}
  destination: {{server: "https://kubernetes.default.svc", namespace: platform}}
"""


def _chart(graph: ReleaseGraph) -> Any:
    (node,) = graph.releases.values()
    return node.chart


# ------------------------------------------------------------------ ChartInfo.repository


def test_a_helm_repository_in_the_release_namespace_gives_its_url() -> None:
    text = _release("{kind: HelmRepository, name: valkey}") + _helm_repository("valkey", VALKEY_IO)
    assert _chart(_graph(text)).repository == VALKEY_IO


def test_a_helm_repository_in_another_namespace_is_found_by_the_source_ref_namespace() -> None:
    source = "{kind: HelmRepository, name: bitnami, namespace: flux-system}"
    text = _release(source) + _helm_repository("bitnami", BITNAMI_OCI, namespace="flux-system")
    assert _chart(_graph(text)).repository == BITNAMI_OCI
    # The same name in the release's own namespace is not the one named.
    other = _release(source) + _helm_repository("bitnami", VALKEY_IO)
    assert _chart(_graph(other)).repository is None


def test_a_source_not_among_the_manifests_leaves_the_repository_unknown() -> None:
    chart = _chart(_graph(_release("{kind: HelmRepository, name: valkey}")))
    assert chart.name == "valkey"
    assert chart.repository is None


def test_a_git_repository_is_not_a_chart_repository() -> None:
    text = _release("{kind: GitRepository, name: charts}", chart="./charts/valkey") + (
        "---\napiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\n"
        "metadata: {name: charts, namespace: platform}\n"
        "spec: {interval: 1h, url: 'https://github.com/valkey-io/valkey-helm', ref: {tag: v1.0.0}}\n"
    )
    assert _chart(_graph(text)).repository is None


def test_an_oci_repository_chart_ref_gives_its_url() -> None:
    text = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cache, namespace: platform}
spec:
  interval: 10m
  chartRef: {kind: OCIRepository, name: valkey}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: OCIRepository
metadata: {name: valkey, namespace: platform}
spec: {interval: 1h, url: "oci://registry-1.docker.io/bitnamicharts/valkey", ref: {tag: 4.0.2}}
"""
    chart = _chart(_graph(text))
    assert (chart.name, chart.version, chart.repository) == (
        "valkey",
        "4.0.2",
        "oci://registry-1.docker.io/bitnamicharts/valkey",
    )


def test_a_helm_chart_chart_ref_gives_its_helm_repositorys_url() -> None:
    text = """\
apiVersion: helm.toolkit.fluxcd.io/v2
kind: HelmRelease
metadata: {name: cache, namespace: platform}
spec:
  interval: 10m
  chartRef: {kind: HelmChart, name: valkey, namespace: flux-system}
---
apiVersion: source.toolkit.fluxcd.io/v1
kind: HelmChart
metadata: {name: valkey, namespace: flux-system}
spec: {interval: 1h, chart: valkey, version: 0.9.4, sourceRef: {kind: HelmRepository, name: valkey}}
""" + _helm_repository("valkey", VALKEY_IO, namespace="flux-system")
    chart = _chart(_graph(text))
    assert (chart.name, chart.repository) == ("valkey", VALKEY_IO)


@pytest.mark.parametrize(
    ("repo_url", "chart", "name"),
    [
        (VALKEY_IO, "valkey", "valkey"),
        ("oci://registry-1.docker.io/bitnamicharts/valkey", None, "valkey"),  # Argo CD's native OCI source
    ],
)
def test_an_application_gives_its_repo_url(repo_url: str, chart: str | None, name: str) -> None:
    info = _chart(_graph(_application(repo_url, chart)))
    assert (info.name, info.repository) == (name, repo_url)


def test_the_service_class_is_looked_up_with_the_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    import renderer.catalog as catalog

    asked: list[tuple[str | None, str | None]] = []
    real = catalog.chart_facts

    def spy(name: str | None, repository: str | None = None) -> Any:
        asked.append((name, repository))
        return real(name, repository)

    monkeypatch.setattr(catalog, "chart_facts", spy)
    text = _release("{kind: HelmRepository, name: valkey}") + _helm_repository("valkey", VALKEY_IO)
    graph = _graph(text)
    assert ("valkey", VALKEY_IO) in asked
    assert _only(graph).service_class == "cache"
    asked.clear()
    _graph(_application(VALKEY_IO))
    assert ("valkey", VALKEY_IO) in asked


def _only(graph: ReleaseGraph) -> Any:
    (node,) = graph.releases.values()
    return node


# ------------------------------------------------------------------ chart-generated-secret


def _secrets(text: str) -> list[Finding]:
    return list(chart_generated_secret.check(LintContext(graph=_graph(text))))


@pytest.mark.parametrize(
    "text",
    [
        _release("{kind: HelmRepository, name: valkey}") + _helm_repository("valkey", VALKEY_IO),
        _release("{kind: HelmRepository, name: valkey}") + _helm_repository("valkey", "HTTPS://Valkey.IO/valkey-helm"),
        _application(VALKEY_IO),
        _application("https://valkey.io/valkey-helm"),
    ],
    ids=["flux", "flux-url-case-and-no-slash", "argo", "argo-no-slash"],
)
def test_the_valkey_io_chart_is_not_checked_as_bitnamis(text: str) -> None:
    assert _secrets(text) == []


@pytest.mark.parametrize(
    "text",
    [
        _release("{kind: HelmRepository, name: bitnami}") + _helm_repository("bitnami", BITNAMI_OCI),
        _release("{kind: HelmRepository, name: bitnami}")
        + _helm_repository("bitnami", "https://charts.bitnami.com/bitnami"),
        _application("oci://registry-1.docker.io/bitnamicharts/valkey", None),
        _application("oci://registry-1.docker.io/bitnamicharts", "valkey"),
        # Unknown repository (not among the manifests, or a mirror no entry claims): read as Bitnami's.
        _release("{kind: HelmRepository, name: elsewhere}"),
        _release("{kind: HelmRepository, name: mirror}")
        + _helm_repository("mirror", "https://charts.example.com/mirror"),
    ],
    ids=["flux-oci", "flux-https", "argo-oci-chart-url", "argo-oci-registry", "unknown", "mirror"],
)
def test_bitnamis_valkey_without_a_password_is_still_reported(text: str) -> None:
    findings = _secrets(text)
    assert [f.rule for f in findings] == ["chart-generated-secret"]
    assert "would generate the Valkey password" in findings[0].message


def test_bitnamis_valkey_with_an_existing_secret_passes() -> None:
    values = "{auth: {existingSecret: valkey-credentials}}"
    text = _release("{kind: HelmRepository, name: bitnami}", values=values) + _helm_repository("bitnami", BITNAMI_OCI)
    assert _secrets(text) == []


def test_bitnamis_gitea_has_no_subchart_facts_of_the_gitea_projects_chart() -> None:
    """Gitea's own chart bundles postgresql-ha with generated passwords; Bitnami's gitea
    chart is another chart: the gitea project's subchart facts are not applied to it."""
    values = '{postgresql-ha: {global: {postgresql: {password: null}}, postgresql: {password: ""}}}'
    gitea = _release("{kind: HelmRepository, name: gitea}", chart="gitea", values=values)
    gitea = gitea.replace("version: 1.0.0", "version: 12.4.0")
    official = gitea + _helm_repository("gitea", "https://dl.gitea.com/charts/")
    bitnami = gitea + _helm_repository("gitea", BITNAMI_OCI)
    assert _secrets(official), "the gitea project's chart: its bundled postgresql-ha generates the password"
    assert _secrets(bitnami) == []
