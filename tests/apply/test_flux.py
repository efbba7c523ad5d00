"""What Flux applies from a repository (``renderer.apply.flux``).

``tests/cases/flux/tree/`` is a small home-ops repository in the common shape: a
bootstrap ``clusters/main/flux-system/gotk-sync.yaml`` builds ``clusters/main``, whose
``cluster-apps`` Kustomization patches every child Kustomization (interval, prune,
wait, ``substituteFrom`` and a nested patch giving every HelmRelease install
remediation); two app Kustomizations build one template whose HelmRelease is named
``${APP}``. Also a ConfigMap and a SOPS Secret for ``substituteFrom``, a tenant
Kustomization on another source, a cycle (``loops/``) and an ``.archive/`` folder
nothing applies. ``tests/cases/flux/empty/`` has no Flux Kustomization at all.

Bootstrapped by the Flux Operator, with no ``gotk-sync.yaml``: ``instance/`` has a
FluxInstance manifest syncing ``./apps``; ``instance-helm/`` has one in a
``flux-instance`` HelmRelease's values (``sync.name: home-ops``), inside the folder it
builds. ``out-of-band/`` has ``clusters/main/cluster-info.yaml``, a ConfigMap that
``substituteFrom`` names and no kustomization lists (a bootstrap task applies it), and
a decoy of the same name under ``clusters/other/``.
"""

from __future__ import annotations

import functools
from collections import Counter
from pathlib import Path

import pytest

from renderer.apply.flux import Applied, apply_repository
from renderer.apply.model import AppliedObject
from renderer.apply.substitute import is_unknown

CASES = Path(__file__).resolve().parent.parent / "cases" / "flux"
FLUX = "flux-system"


@pytest.fixture(scope="module")
def tree() -> Applied:
    return apply_repository(CASES / "tree")


def find(applied: Applied, kind: str, name: str) -> AppliedObject:
    found = [o for o in applied.objects if o.kind == kind and o.name == name]
    assert len(found) == 1, [(o.kind, o.name, o.applied_by) for o in found]
    return found[0]


def test_the_bootstrap_kustomization_is_the_only_root(tree: Applied) -> None:
    assert [(r.source, r.id, r.path) for r in tree.roots] == [
        ("clusters/main/flux-system/gotk-sync.yaml", (FLUX, FLUX), "clusters/main")
    ]


def test_every_kustomization_is_built_once_breadth_first(tree: Applied) -> None:
    built = [(k.id[1], k.parent[1] if k.parent else None, k.path) for k in tree.kustomizations]
    assert built == [
        ("flux-system", None, "clusters/main"),
        ("cluster-apps", "flux-system", "apps"),
        ("cluster-config", "flux-system", "config"),
        ("loop-a", "flux-system", "loops/a"),
        ("podinfo", "cluster-apps", "templates/app"),
        ("whoami", "cluster-apps", "templates/app"),
        ("loop-b", "loop-a", "loops/b"),
    ]
    assert {k.tree for k in tree.kustomizations} == {"clusters/main/flux-system/gotk-sync.yaml"}


def test_depends_on_is_kept_with_the_namespace_filled_in(tree: Applied) -> None:
    apps = next(k for k in tree.kustomizations if k.name == "cluster-apps")
    assert apps.depends_on == ((FLUX, "cluster-config"),)
    assert apps.source == "clusters/main/apps.yaml"
    assert apps.line == 1


def test_objects_know_the_kustomization_that_applied_them(tree: Applied) -> None:
    applied = Counter((o.applied_by, o.kind) for o in tree.objects)
    assert applied == {
        ((FLUX, FLUX), "GitRepository"): 2,
        ((FLUX, FLUX), "Kustomization"): 5,  # itself, three children, the tenant's
        ((FLUX, "cluster-apps"), "Namespace"): 1,
        ((FLUX, "cluster-apps"), "Kustomization"): 2,
        ((FLUX, "cluster-config"), "ConfigMap"): 1,
        ((FLUX, "cluster-config"), "Secret"): 1,
        ((FLUX, "podinfo"), "HelmRelease"): 1,
        ((FLUX, "whoami"), "HelmRelease"): 1,
        ((FLUX, "loop-a"), "Kustomization"): 1,
        ((FLUX, "loop-b"), "Kustomization"): 1,
    }


def test_a_parents_patches_reach_every_child_kustomization(tree: Applied) -> None:
    for name in ("podinfo", "whoami"):
        child = find(tree, "Kustomization", name)
        spec = child.data["spec"]
        assert (spec["interval"], spec["prune"], spec["wait"]) == ("1h", True, True)
        assert spec["postBuild"]["substitute"] == {"APP": name}  # merged, not replaced
        assert [s["name"] for s in spec["postBuild"]["substituteFrom"]] == ["cluster-settings", "cluster-secrets"]
        assert child.locate(("spec", "interval")).path == "clusters/main/apps.yaml"
    config = find(tree, "Kustomization", "cluster-config")
    assert config.data["spec"]["interval"] == "30m"  # not a child of cluster-apps


def test_one_template_gives_one_helmrelease_per_app(tree: Applied) -> None:
    releases = sorted((o.name, o.namespace, o.applied_by) for o in tree.objects if o.kind == "HelmRelease")
    assert releases == [("podinfo", "default", (FLUX, "podinfo")), ("whoami", "web", (FLUX, "whoami"))]
    podinfo = find(tree, "HelmRelease", "podinfo")
    assert podinfo.source == "templates/app/helmrelease.yaml"
    assert podinfo.locate(("metadata", "namespace")).path == "apps/default/podinfo/ks.yaml"  # targetNamespace


def test_substitution_knows_configmaps_and_not_secrets(tree: Applied) -> None:
    values = find(tree, "HelmRelease", "whoami").data["spec"]["values"]
    assert values["ingress"]["host"] == "whoami.example.org"  # ConfigMap cluster-settings, known
    token = values["token"]
    assert is_unknown(token) and token == "${SECRET_TOKEN}"  # SOPS Secret cluster-secrets: its key, no value


def test_nested_patches_and_common_metadata(tree: Applied) -> None:
    release = find(tree, "HelmRelease", "podinfo")
    assert release.data["spec"]["install"] == {"remediation": {"retries": 3}}
    where = release.locate(("spec", "install", "remediation", "retries"))
    assert (where.path, where.line) == ("clusters/main/apps.yaml", 40)  # the patch inside the patch
    assert release.data["metadata"]["labels"] == {"app.kubernetes.io/name": "podinfo"}
    label = release.locate(("metadata", "labels", "app.kubernetes.io/name"))
    assert (label.path, label.line) == ("apps/default/podinfo/ks.yaml", 12)
    assert "labels" not in find(tree, "Namespace", "web").data["metadata"]  # cluster-apps has no commonMetadata


def test_applied_files_leave_out_the_archive(tree: Applied) -> None:
    assert ".archive/old/helmrelease.yaml" not in tree.applied_files
    assert not any(o.name == "old" for o in tree.objects)
    assert {
        "clusters/main/flux-system/gotk-sync.yaml",
        "clusters/main/tenant.yaml",
        "config/cluster-secrets.sops.yaml",
        "templates/app/helmrelease.yaml",
        "templates/app/kustomization.yaml",
        "apps/default/whoami/ks.yaml",
        "loops/b/ks.yaml",
    } <= tree.applied_files
    podinfo = next(k for k in tree.kustomizations if k.name == "podinfo")
    assert podinfo.files == {"templates/app/helmrelease.yaml", "templates/app/kustomization.yaml"}


def test_notes_name_the_cycle_and_the_foreign_source(tree: Applied) -> None:
    assert [(n.file, n.feature, n.line) for n in tree.notes] == [
        ("clusters/main/tenant.yaml", "source", 13),
        ("loops/b/ks.yaml", "cycle", 1),
    ]
    cycle = tree.notes[1].message
    assert "flux-system/loop-a -> flux-system/loop-b -> flux-system/loop-a" in cycle


def test_without_a_flux_kustomization_the_result_is_empty_and_says_so() -> None:
    applied = apply_repository(CASES / "empty")
    assert (applied.objects, applied.kustomizations, applied.applied_files) == ((), (), frozenset())
    assert [n.feature for n in applied.notes] == ["flux"]


def _write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


KS = """apiVersion: kustomize.toolkit.fluxcd.io/{version}
kind: Kustomization
metadata:
  name: {name}
  namespace: flux-system
spec:
  path: {path}
  sourceRef:
    kind: GitRepository
    name: flux-system
{extra}"""


def test_a_kustomization_left_out_of_its_folder_is_not_a_root(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "clusters/main/ks.yaml": KS.format(version="v1", name="apps", path="./apps", extra=""),
            "apps/kustomization.yaml": "resources:\n  - ./on.yaml\n",
            "apps/on.yaml": KS.format(version="v1", name="on", path="./on", extra=""),
            "apps/off.yaml": KS.format(version="v1", name="off", path="./off", extra=""),
            "on/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: on\n",
            "off/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: off\n",
            "broken.yaml": "a: [\n",
        },
    )
    applied = apply_repository(root)
    assert [k.name for k in applied.roots] == ["apps"]
    assert [k.name for k in applied.kustomizations] == ["apps", "on"]
    assert "off/cm.yaml" not in applied.applied_files
    assert sorted(n.feature for n in applied.notes) == ["unapplied-kustomization", "yaml"]


def test_flux_spec_fields_apply_after_the_build(tmp_path: Path) -> None:
    extra = """  targetNamespace: media
  namePrefix: pre-
  components:
    - ../components/env
  patches:
    - patch: |
        - op: add
          path: /data/patched
          value: "yes"
      target:
        kind: ConfigMap
  images:
    - name: nginx
      newTag: "1.27"
"""
    root = _write(
        tmp_path,
        {
            "clusters/main/ks.yaml": KS.format(version="v1", name="app", path="./app", extra=extra),
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  a: b\n",
            "app/deploy.yaml": (
                "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
                "    spec:\n      containers:\n        - name: web\n          image: nginx:1.25\n"
            ),
            "components/env/kustomization.yaml": (
                "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonLabels:\n  env: prod\n"
            ),
        },
    )
    applied = apply_repository(root)
    assert applied.notes == ()
    settings = find(applied, "ConfigMap", "pre-settings")
    assert settings.namespace == "media"
    assert settings.data["data"] == {"a": "b", "patched": "yes"}
    assert settings.data["metadata"]["labels"] == {"env": "prod"}
    assert settings.locate(("metadata", "namespace")).path == "clusters/main/ks.yaml"
    assert settings.locate(("metadata", "namespace")).line == 11  # targetNamespace
    web = find(applied, "Deployment", "pre-web")
    assert web.data["spec"]["template"]["spec"]["containers"][0]["image"] == "nginx:1.27"
    assert "components/env/kustomization.yaml" in applied.applied_files


def test_the_same_kustomization_twice_with_other_content_is_a_note(tmp_path: Path) -> None:
    root = _write(
        tmp_path,
        {
            "clusters/main/ks.yaml": KS.format(version="v1", name="apps", path="./apps", extra=""),
            "apps/p1.yaml": KS.format(version="v1", name="p1", path="./p1", extra=""),
            "apps/p2.yaml": KS.format(version="v1", name="p2", path="./p2", extra=""),
            "p1/app.yaml": KS.format(version="v1", name="app", path="./one", extra=""),
            "p2/app.yaml": KS.format(version="v1", name="app", path="./two", extra=""),
            "one/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\n",
            "two/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\n",
        },
    )
    applied = apply_repository(root)
    assert [k.path for k in applied.kustomizations if k.name == "app"] == ["one"]  # the first found
    assert "two/cm.yaml" not in applied.applied_files
    assert [(n.file, n.feature) for n in applied.notes] == [("p2/app.yaml", "duplicate-kustomization")]
    assert "by flux-system/p2" in applied.notes[0].message


def test_a_missing_path_and_a_v1beta2_kustomization(tmp_path: Path) -> None:
    extra = """  patchesStrategicMerge:
    - apiVersion: v1
      kind: ConfigMap
      metadata:
        name: settings
      data:
        merged: "true"
"""
    root = _write(
        tmp_path,
        {
            "clusters/main/ks.yaml": KS.format(version="v1beta2", name="app", path="./app", extra=extra),
            "clusters/main/gone.yaml": KS.format(version="v1", name="gone", path="./nowhere", extra=""),
            "app/cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\n",
        },
    )
    applied = apply_repository(root)
    assert find(applied, "ConfigMap", "settings").data["data"] == {"merged": "true"}
    assert [(n.file, n.feature) for n in applied.notes] == [("clusters/main/gone.yaml", "missing-path")]


CORPUS_FLUX = (
    "fluxcd__flux2-hub-spoke-example",
    "fluxcd__flux2-multi-tenancy",
    "joryirving__home-ops",
    "mirceanton__home-ops",
)


@functools.cache
def _corpus(repo: Path) -> Applied:
    return apply_repository(repo)


def test_the_real_repositories_build(shared_dir: Path) -> None:
    corpus = shared_dir / "corpus-train"
    if not corpus.is_dir():
        pytest.skip(f"{corpus} is missing: the real repositories are not beside this checkout")
    for repo in sorted(p for p in corpus.iterdir() if p.is_dir()):
        applied = _corpus(repo)
        if repo.name in CORPUS_FLUX:
            assert applied.roots and applied.objects, repo.name
            assert applied.applied_files, repo.name
            assert all(o.applied_by is not None for o in applied.objects)
        else:
            assert not applied.objects, repo.name


def test_templated_helmreleases_become_distinct(shared_dir: Path) -> None:
    repo = shared_dir / "corpus-train" / "joryirving__home-ops"
    if not repo.is_dir():
        pytest.skip(f"{repo} is missing")
    applied = _corpus(repo)
    releases = [o for o in applied.objects if o.kind == "HelmRelease"]
    templated = [o for o in releases if "${" in o.name]
    assert len(releases) > 100
    assert len(templated) < len(releases) // 20


def notes_of(applied: Applied, feature: str) -> list[tuple[str, int | None, str]]:
    return [(n.file, n.line, n.message) for n in applied.notes if n.feature == feature]


def test_a_flux_instance_manifest_is_the_root() -> None:
    applied = apply_repository(CASES / "instance")
    assert [(r.source, r.line, r.id, r.path) for r in applied.roots] == [
        ("clusters/main/flux-instance.yaml", 10, (FLUX, FLUX), "apps")
    ]
    built = [(k.id, k.parent, k.path) for k in applied.kustomizations]
    assert built == [((FLUX, FLUX), None, "apps"), ((FLUX, "podinfo"), (FLUX, FLUX), "apps/podinfo/app")]
    assert find(applied, "ConfigMap", "podinfo").applied_by == (FLUX, "podinfo")
    assert notes_of(applied, "flux-instance") == [
        (
            "clusters/main/flux-instance.yaml",
            10,
            "Kustomization flux-system/flux-system is synthesised from this FluxInstance (sync.path './apps'): "
            "the Flux Operator creates it, rail builds it as a root",
        )
    ]


def test_a_flux_instance_in_a_helmreleases_values_is_the_root() -> None:
    applied = apply_repository(CASES / "instance-helm")
    source = "apps/flux-system/flux-instance/app/helm-release.yaml"
    assert [(r.source, r.line, r.id, r.path) for r in applied.roots] == [(source, 16, (FLUX, "home-ops"), "apps")]
    built = [(k.id[1], k.parent[1] if k.parent else None, k.path) for k in applied.kustomizations]
    assert built == [
        ("home-ops", None, "apps"),
        ("flux-instance", "home-ops", "apps/flux-system/flux-instance/app"),  # its own file: still the root
        ("whoami", "home-ops", "apps/default/whoami/app"),
    ]
    assert find(applied, "HelmRelease", "flux-instance").namespace == FLUX
    assert find(applied, "Service", "whoami").applied_by == ("default", "whoami")
    assert [(file, line) for file, line, _ in notes_of(applied, "flux-instance")] == [(source, 16)]
    assert not notes_of(applied, "unapplied-kustomization")


def test_cluster_variables_applied_out_of_band_are_known() -> None:
    applied = apply_repository(CASES / "out-of-band")
    assert [(r.source, r.path) for r in applied.roots] == [
        ("clusters/main/flux-system/gotk-sync.yaml", "clusters/main")
    ]
    assert [k.name for k in applied.kustomizations] == ["flux-system", "cluster-apps"]
    release = find(applied, "HelmRelease", "podinfo-main")  # the root's cluster, not clusters/other
    assert release.data["spec"]["values"] == {"cluster": "main", "region": "eu"}
    assert "clusters/main/cluster-info.yaml" not in applied.applied_files
    assert notes_of(applied, "postBuild:out-of-band") == [
        (
            "clusters/main/apps.yaml",
            12,
            "ConfigMap flux-system/cluster-info is applied by no Kustomization before this one: its data is taken "
            "from clusters/main/cluster-info.yaml, a file no Kustomization applies (a bootstrap step applies it)",
        )
    ]


def test_each_file_is_parsed_once_per_repository(monkeypatch: pytest.MonkeyPatch) -> None:
    """The root search reads every file and the builds read them again: one parse each.
    (A text parsed under a file's name may differ: an inline patch, a substituted object.)"""
    import renderer.yamlio as yamlio

    parsed: list[tuple[str, str]] = []
    original = yamlio._load_documents

    def counting(text: str, path: str, strict_tags: bool) -> list[yamlio.Document]:
        parsed.append((path, text))
        return original(text, path, strict_tags)

    monkeypatch.setattr(yamlio, "_load_documents", counting)
    apply_repository(CASES / "tree")
    assert len(parsed) == len(set(parsed))
