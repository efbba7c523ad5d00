"""rail's kustomize builder (``renderer.apply.kustomize``) against ``kubectl kustomize``.

Each folder of ``tests/cases/kustomize/<case>/`` holds an ``input/`` folder (what is
built; the case folder is the repository root) and, where kubectl cannot build it
(no kustomization file: Flux generates one), a hand-written ``expected.yaml``.
The unit tests below cover what kubectl cannot show: where each field came from,
and the notes for what rail does not build or refuses.

(Not ``test_kustomize.py``: ``tests/render/`` has one, and test modules here are
imported by their base name.)
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from renderer.apply import AppliedObject, Build, build
from renderer.apply import kustomize as kustomize_module
from renderer.apply.resource import start_line
from renderer.yamlio import load_documents

CASES = Path(__file__).resolve().parent.parent / "cases" / "kustomize"
CASE_NAMES = sorted(path.name for path in CASES.iterdir() if (path / "input").is_dir())
KUBECTL_CASES = [name for name in CASE_NAMES if not (CASES / name / "expected.yaml").is_file()]
EXPECTED_CASES = [name for name in CASE_NAMES if name not in KUBECTL_CASES]

Key = tuple[Any, Any, Any, Any]


def key_of(obj: dict[str, Any]) -> Key:
    metadata = obj.get("metadata") or {}
    return (obj.get("apiVersion"), obj.get("kind"), metadata.get("namespace"), metadata.get("name"))


def keyed(objects: list[dict[str, Any]]) -> dict[Key, dict[str, Any]]:
    found = {key_of(obj): obj for obj in objects}
    assert len(found) == len(objects), "two objects with the same id"
    return found


def parse(text: str, path: str) -> list[dict[str, Any]]:
    return [doc.data for doc in load_documents(text, path) if doc.data is not None]


def build_case(name: str) -> Build:
    return build(CASES / name / "input", CASES / name)


def assert_same_objects(ours: list[dict[str, Any]], theirs: list[dict[str, Any]]) -> None:
    mine, other = keyed(ours), keyed(theirs)
    assert sorted(mine, key=repr) == sorted(other, key=repr)
    for key, obj in other.items():
        assert mine[key] == obj, key


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not on PATH: cannot compare rail's kustomize build with kubectl kustomize")
    return found


# --------------------------------------------------------------------------- data cases


def test_every_case_is_listed() -> None:
    assert set(CASE_NAMES) >= {
        "base-overlay",
        "components",
        "namespace-prefix",
        "common-labels",
        "json6902-helmrelease",
        "label-selector-targets",
        "generated-overlay",
        "no-kustomization",
        "legacy-patches",
        "strategic-lists",
        "replacements-flux-namespace",
        "replacements-image",
        "replacements-select-reject",
        "replacements-wildcard",
    }
    assert EXPECTED_CASES == ["no-kustomization"]


@pytest.mark.slow
@pytest.mark.parametrize("case", KUBECTL_CASES)
def test_case_builds_like_kubectl(case: str, kubectl: str) -> None:
    result = subprocess.run(
        [kubectl, "kustomize", str(CASES / case / "input")], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {case} failed:\n{result.stderr}"
    built = build_case(case)
    assert built.notes == ()
    assert_same_objects([obj.data for obj in built.objects], parse(result.stdout, "kubectl"))


GENERATOR_CASES = Path(__file__).resolve().parent.parent / "cases" / "generators"


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(path.name for path in GENERATOR_CASES.iterdir() if path.is_dir()))
def test_generator_case_builds_like_kubectl(case: str, kubectl: str) -> None:
    """The generators' cases through the whole builder: hashes, merges and the references
    that follow a hashed name (a Deployment's envFrom, a HelmRelease's valuesFrom)."""
    folder = GENERATOR_CASES / case
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {case} failed:\n{result.stderr}"
    built = build(folder, folder)
    assert [note for note in built.notes if note.feature != "generators"] == []
    assert_same_objects([obj.data for obj in built.objects], parse(result.stdout, "kubectl"))


@pytest.mark.parametrize("case", EXPECTED_CASES)
def test_case_builds_as_expected(case: str) -> None:
    built = build_case(case)
    assert built.notes == ()
    expected = CASES / case / "expected.yaml"
    assert_same_objects([obj.data for obj in built.objects], parse(expected.read_text(), str(expected)))


def test_output_is_in_kustomize_order() -> None:
    """Namespaces first, then kustomize's kind order; other kinds after, by type."""
    kinds = [obj.kind for obj in build_case("no-kustomization").objects]
    assert kinds == ["Namespace", "Namespace", "ConfigMap", "HelmRelease", "HelmRelease", "HelmRepository"]


# --------------------------------------------------------------------------- provenance


def line_of(path: Path, text: str, after: str = "") -> int:
    """1-based line of the first line containing ``text`` (after the first containing ``after``)."""
    lines = path.read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if after in line) if after else 0
    return next(i for i, line in enumerate(lines[start:], start) if text in line) + 1


def find(built: Build, kind: str, name: str) -> AppliedObject:
    return next(obj for obj in built.objects if obj.kind == kind and obj.name == name)


def test_patched_fields_locate_to_the_patch() -> None:
    built = build_case("base-overlay")
    deployment = find(built, "Deployment", "prod-gitea")
    folder = CASES / "base-overlay"
    patch = folder / "input" / "patches" / "deployment.yaml"
    kustomization = folder / "input" / "kustomization.yaml"
    base = folder / "base" / "deployment.yaml"
    containers = ("spec", "template", "spec", "containers")

    # A patch file.
    memory = deployment.locate((*containers, 0, "resources", "limits", "memory"))
    assert (memory.path, memory.line) == ("input/patches/deployment.yaml", line_of(patch, "memory: 1Gi"))
    # A list item merged by key (kustomize lists the patch's items first): the patch sets its value.
    env = deployment.data["spec"]["template"]["spec"]["containers"][0]["env"]
    assert [item["value"] for item in env] == [
        "postgres",
        "http://localhost:3000",
        "postgresql-ha-pgpool.platform.svc:5432",
    ]
    db_type = deployment.locate((*containers, 0, "env", 0, "value"))
    assert (db_type.path, db_type.line) == ("input/patches/deployment.yaml", line_of(patch, "value: postgres"))
    # A new container from the patch.
    backup = deployment.locate((*containers, 1, "image"))
    assert backup.line == line_of(patch, "image: restic/restic")
    # An inline JSON patch inside kustomization.yaml: the line of its value there.
    replicas = deployment.locate(("spec", "replicas"))
    assert (replicas.path, replicas.line) == ("input/kustomization.yaml", line_of(kustomization, "value: 3"))
    appended = deployment.locate((*containers, 0, "env", 2, "value"))
    assert appended.line == line_of(kustomization, "value: postgresql-ha-pgpool")
    # Transformers: the kustomization line that asked for it.
    assert deployment.locate(("metadata", "namespace")).line == line_of(kustomization, "namespace: apps")
    assert deployment.locate(("metadata", "name")).line == line_of(kustomization, "namePrefix:")
    assert deployment.locate((*containers, 0, "image")).line == line_of(kustomization, "- name: gitea/gitea")
    # Untouched: the base file.
    assert deployment.locate((*containers, 0, "env", 1, "value")).line == line_of(base, "value: http://localhost")
    port = deployment.locate((*containers, 0, "ports", 1, "containerPort"))
    assert (port.path, port.line) == ("base/deployment.yaml", line_of(base, "containerPort: 2222"))
    assert (deployment.source, deployment.line) == ("base/deployment.yaml", 1)


def test_provenance_follows_items_a_merge_moved() -> None:
    """The patch lists ``sidecar`` before ``web``: ``web`` moves from index 0 to 1, and
    its env from [A, B, C] to [D, A, C]; untouched fields still point at the base."""
    built = build_case("strategic-lists")
    web = find(built, "Deployment", "web")
    folder = CASES / "strategic-lists" / "input"
    base, patch = folder / "workloads.yaml", folder / "deployment-patch.yaml"
    containers = ("spec", "template", "spec", "containers")
    assert [c["name"] for c in web.data["spec"]["template"]["spec"]["containers"]] == ["sidecar", "web"]

    assert web.locate((*containers, 1, "image")).line == line_of(base, "image: web:1.0", after="containers:")
    assert web.locate((*containers, 1, "args")).line == line_of(patch, "args: [serve, --port=8081]")
    assert web.locate((*containers, 0, "image")).line == line_of(patch, "image: fluent-bit")
    assert [e["name"] for e in web.data["spec"]["template"]["spec"]["containers"][1]["env"]] == ["D", "A", "C"]
    assert web.locate((*containers, 1, "env", 2, "value")).line == line_of(base, "value: c")
    assert web.locate((*containers, 1, "env", 1, "value")).line == line_of(patch, "value: a2")
    assert web.locate((*containers, 1, "env", 0)).path.endswith("deployment-patch.yaml")


def test_provenance_follows_items_a_json_patch_moved() -> None:
    built = build_case("json6902-helmrelease")
    release = find(built, "HelmRelease", "postgresql-ha")
    folder = CASES / "json6902-helmrelease" / "input"
    patch, source = folder / "patches" / "production.yaml", folder / "helmrelease.yaml"
    names = [item["name"] for item in release.data["spec"]["valuesFrom"]]
    assert names == ["postgresql-ha-tuning", "postgresql-ha-values", "postgresql-ha-backup"]
    assert release.locate(("spec", "valuesFrom", 0, "name")).line == line_of(patch, "name: postgresql-ha-tuning")
    assert release.locate(("spec", "valuesFrom", 1, "name")).line == line_of(source, "name: postgresql-ha-values")
    assert release.locate(("spec", "valuesFrom", 2)).line == line_of(patch, "path: /spec/valuesFrom/-") + 1
    assert release.locate(("spec", "values", "persistence", "size")).line == line_of(patch, "value: 50Gi")


def test_object_lines_are_document_starts() -> None:
    built = build_case("namespace-prefix")
    rbac = CASES / "namespace-prefix" / "input" / "rbac.yaml"
    binding = find(built, "RoleBinding", "cm-leader-election-v1")
    assert (binding.source, binding.line) == ("input/rbac.yaml", line_of(rbac, "kind: RoleBinding") - 1)
    text = "# lead\n\n---\n# c\napiVersion: v1\n---\n---\nkind: X\n...\n---\n--- {a: 1}\n"
    for document in load_documents(text, "t.yaml", strict_tags=False):
        if document.data is not None:
            assert start_line(document) == document.locate(())[0]


# --------------------------------------------------------------------------- notes and refusals


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


def features(built: Build) -> dict[str, list[tuple[str, int | None]]]:
    found: dict[str, list[tuple[str, int | None]]] = {}
    for note in built.notes:
        found.setdefault(note.feature, []).append((note.file, note.line))
    return found


def test_unsupported_features_are_notes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": (
                "resources: [cm.yaml]\n"
                "helmCharts:\n  - name: x\n"
                "vars: []\n"
                "openapi: {path: schema.json}\n"
                "crds: [crd.yaml]\n"
                "generators: [gen.yaml]\n"
                "transformers: [t.yaml]\n"
                "configMapGenerator:\n  - name: settings\n    literals: [a=b]\n"
                "images:\n  - name: nginx\n    tagSuffix: -debug\n"
                "mysteryField: 1\n"
            ),
            "app/cm.yaml": CONFIG_MAP.format(name="kept"),
        },
    )
    built = build(tmp_path / "app", tmp_path)
    # The generator is built (its hashed ConfigMap is there); everything else is a note.
    assert [obj.name for obj in built.objects] == ["kept", "settings-4h2mbtbbt6"]
    found = features(built)
    for feature, line in [
        ("helmCharts", 2),
        ("vars", 4),
        ("openapi", 5),
        ("crds", 6),
        ("generators", 7),
        ("transformers", 8),
        ("images", 13),
        ("unknown-field", 15),
    ]:
        assert found.get(feature) == [("app/kustomization.yaml", line)], feature
    assert "configMapGenerator" not in found


def test_remote_resources_fall_back_to_the_raw_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": (
                "namespace: apps\n"
                "resources:\n"
                "  - https://github.com/example/repo//deploy?ref=v1\n"
                "  - local.yaml\n"
                "  - ../base\n"
                "commonLabels: {a: b}\n"
            ),
            "app/local.yaml": CONFIG_MAP.format(name="local"),
            "base/kustomization.yaml": "namePrefix: base-\nresources: [cm.yaml]\n",
            "base/cm.yaml": CONFIG_MAP.format(name="cm"),
        },
    )
    built = build(tmp_path / "app", tmp_path)
    # The local file as written, the local folder built; no namespace, no labels.
    assert {obj.key for obj in built.objects} == {
        ("v1", "ConfigMap", None, "local"),
        ("v1", "ConfigMap", None, "base-cm"),
    }
    assert all("labels" not in obj.data["metadata"] for obj in built.objects)
    assert features(built) == {"remote-resource": [("app/kustomization.yaml", 3)]}


def test_cycles_are_notes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "a/kustomization.yaml": "resources:\n  - a.yaml\n  - ../b\n",
            "a/a.yaml": CONFIG_MAP.format(name="a"),
            "b/kustomization.yaml": "resources:\n  - b.yaml\n  - ../a\n",
            "b/b.yaml": CONFIG_MAP.format(name="b"),
        },
    )
    built = build(tmp_path / "a", tmp_path)
    assert sorted(obj.name for obj in built.objects) == ["a", "b"]
    [note] = built.notes
    assert (note.feature, note.file, note.line) == ("cycle", "b/kustomization.yaml", 3)
    assert "a -> b -> a" in note.message


def test_a_component_including_itself_is_a_cycle(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [cm.yaml]\ncomponents: [../c]\n",
            "app/cm.yaml": CONFIG_MAP.format(name="cm"),
            "c/kustomization.yaml": "kind: Component\ncomponents: [../c]\ncommonLabels: {x: y}\n",
        },
    )
    built = build(tmp_path / "app", tmp_path)
    assert built.objects[0].data["metadata"]["labels"] == {"x": "y"}
    assert features(built) == {"cycle": [("c/kustomization.yaml", 2)]}


def test_missing_resources_are_notes_with_file_and_line(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources:\n  - cm.yaml\n  - gone.yaml\n  - ../nowhere\n",
            "app/cm.yaml": CONFIG_MAP.format(name="cm"),
        },
    )
    built = build(tmp_path / "app", tmp_path)
    assert [obj.name for obj in built.objects] == ["cm"]
    assert features(built) == {"missing-file": [("app/kustomization.yaml", 3), ("app/kustomization.yaml", 4)]}


def test_paths_out_of_the_repository_are_refused(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"secret.yaml": CONFIG_MAP.format(name="outside")})
    repo = write(
        tmp_path / "repo",
        {
            "app/kustomization.yaml": (
                "resources:\n"
                "  - ../../outside/secret.yaml\n"
                f"  - {outside / 'secret.yaml'}\n"
                "  - linked.yaml\n"
                "  - linked-folder\n"
                "  - ok.yaml\n"
                "patches:\n"
                "  - path: ../../../../etc/passwd\n"
            ),
            "app/ok.yaml": CONFIG_MAP.format(name="ok"),
        },
    )
    os.symlink(outside / "secret.yaml", repo / "app" / "linked.yaml")
    os.symlink(outside, repo / "app" / "linked-folder")
    built = build(repo / "app", repo)
    assert [obj.name for obj in built.objects] == ["ok"]
    assert features(built) == {"path-traversal": [("app/kustomization.yaml", line) for line in (2, 3, 4, 5, 8)]}


def test_a_folder_outside_the_root_is_refused(tmp_path: Path) -> None:
    write(tmp_path, {"elsewhere/cm.yaml": CONFIG_MAP.format(name="cm")})
    built = build(tmp_path / "elsewhere", tmp_path / "repo")
    assert built.objects == ()
    assert [note.feature for note in built.notes] == ["path-traversal"]


def test_flux_generated_folders_skip_links_out_of_the_repository(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"x.yaml": CONFIG_MAP.format(name="outside")})
    repo = write(tmp_path / "repo", {"app/in.yaml": CONFIG_MAP.format(name="in")})
    os.symlink(outside / "x.yaml", repo / "app" / "out.yaml")
    built = build(repo / "app", repo)
    assert [obj.name for obj in built.objects] == ["in"]
    assert features(built) == {"path-traversal": [("app/out.yaml", None)]}


def test_files_that_do_not_parse_are_notes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [bad.yaml, good.yaml, plain.yaml]\npatches:\n  - patch: 'a: [b'\n",
            "app/bad.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  name: y\n",
            "app/good.yaml": CONFIG_MAP.format(name="good"),
            "app/plain.yaml": "just: values\n",
        },
    )
    built = build(tmp_path / "app", tmp_path)
    assert [obj.name for obj in built.objects] == ["good"]
    found = features(built)
    assert found["yaml"][0] == ("app/bad.yaml", 5)
    assert found["yaml"][1][0] == "app/kustomization.yaml"
    assert found["resources"] == [("app/plain.yaml", 1)]


def test_an_unreadable_file_in_a_generated_folder_is_a_note(tmp_path: Path) -> None:
    write(tmp_path, {"app/good.yaml": CONFIG_MAP.format(name="good")})
    (tmp_path / "app" / "binary.yaml").write_bytes(b"\xff\xfe\x00")
    built = build(tmp_path / "app", tmp_path)
    assert [obj.name for obj in built.objects] == ["good"]
    assert [(note.file, note.feature) for note in built.notes] == [("app/binary.yaml", "yaml")]


def test_patches_kustomize_refuses_are_notes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": (
                "resources: [cm.yaml]\n"
                "patches:\n"
                "  - patch: |-\n"
                "      apiVersion: v1\n"
                "      kind: ConfigMap\n"
                "      metadata: {name: nothing}\n"
                "  - target: {kind: ConfigMap}\n"
                "    patch: |-\n"
                "      - {op: test, path: /data/a, value: not-b}\n"
                "      - {op: replace, path: /data/a, value: c}\n"
                "  - patch: '[{op: remove, path: /data/a}]'\n"
                "  - target: {name: '('}\n"
                "    patch: '[]'\n"
            ),
            "app/cm.yaml": CONFIG_MAP.format(name="cm"),
        },
    )
    built = build(tmp_path / "app", tmp_path)
    assert built.objects[0].data["data"] == {"a": "b"}
    messages = [(note.line, note.message) for note in built.notes]
    assert messages == [
        (3, "no object matches the patch for ConfigMap 'nothing'"),
        (7, "JSON patch on ConfigMap 'cm': operation 1: test failed"),
        (11, "a JSON patch needs a target"),
        (12, "target name is not a valid regular expression"),
    ]


def test_duplicate_objects_are_notes(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "resources: [a.yaml, b.yaml]\n",
            "app/a.yaml": CONFIG_MAP.format(name="same"),
            "app/b.yaml": CONFIG_MAP.format(name="same"),
        },
    )
    built = build(tmp_path / "app", tmp_path)
    assert [obj.source for obj in built.objects] == ["app/a.yaml"]
    assert features(built) == {"duplicate": [("app/kustomization.yaml", 1)]}


def test_each_folder_is_built_once_per_build(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two overlays of one base (a diamond): the base is built once, each overlay
    transforms its own copy."""
    write(
        tmp_path,
        {
            "top/kustomization.yaml": "resources: [../blue, ../green]\n",
            "blue/kustomization.yaml": "namePrefix: blue-\nresources: [../base]\n",
            "green/kustomization.yaml": "namePrefix: green-\nresources: [../base]\n",
            "base/kustomization.yaml": "resources: [cm.yaml]\n",
            "base/cm.yaml": CONFIG_MAP.format(name="cm"),
        },
    )
    built_folders: list[str] = []
    original = kustomize_module._Builder._build_folder

    def counting(self: Any, folder: Path, origin: Any) -> Any:
        built_folders.append(folder.name)
        return original(self, folder, origin)

    monkeypatch.setattr(kustomize_module._Builder, "_build_folder", counting)
    first = build(tmp_path / "top", tmp_path)
    assert sorted(obj.name for obj in first.objects) == ["blue-cm", "green-cm"]
    assert sorted(built_folders) == ["base", "blue", "green", "top"]
    # Nothing is kept across builds.
    build(tmp_path / "top", tmp_path)
    assert len(built_folders) == 8


def test_cluster_scoped_kinds_keep_their_names_and_no_namespace(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "app/kustomization.yaml": "namespace: apps\nnamePrefix: x-\nresources: [all.yaml]\n",
            "app/all.yaml": (
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n"
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: reader}\n---\n"
                "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: a.b.io}\n---\n"
                "apiVersion: cert-manager.io/v1\nkind: ClusterIssuer\nmetadata: {name: issuer}\n"
            ),
        },
    )
    keys = {obj.key for obj in build(tmp_path / "app", tmp_path).objects}
    assert keys == {
        ("v1", "Namespace", None, "apps"),
        ("rbac.authorization.k8s.io/v1", "ClusterRole", None, "x-reader"),
        ("apiextensions.k8s.io/v1", "CustomResourceDefinition", None, "a.b.io"),
        # kustomize does not know a ClusterIssuer is cluster-scoped: neither does Flux's build.
        ("cert-manager.io/v1", "ClusterIssuer", "apps", "x-issuer"),
    }


# --------------------------------------------------------------------------- replacements


def test_replaced_fields_locate_to_the_source_field() -> None:
    """kustomize keeps no provenance; rail points a replaced field at the source
    object's field (where the value is written), through a component and a path file."""
    built = build_case("replacements-flux-namespace")
    namespace = CASES / "replacements-flux-namespace" / "input" / "namespace.yaml"
    for name in ("podinfo", "redis"):
        kustomization = next(obj for obj in built.objects if obj.kind == "Kustomization" and obj.name == name)
        assert kustomization.data["spec"]["targetNamespace"] == "team-a"
        where = kustomization.locate(("spec", "targetNamespace"))
        assert (where.path, where.line) == ("input/namespace.yaml", line_of(namespace, "name: team-a"))
    # Fields the replacement did not write still locate to their own file.
    podinfo = find(built, "Kustomization", "podinfo")
    assert podinfo.locate(("spec", "path")).path == "input/apps.yaml"

    image = find(build_case("replacements-image"), "Deployment", "prod-web")
    release = CASES / "replacements-image" / "input" / "release.yaml"
    containers = ("spec", "template", "spec", "containers")
    for key_path in [(*containers, 0, "image"), (*containers, 0, "env", 1, "value"), ("spec", "replicas")]:
        where = image.locate(key_path)
        assert where.path == "input/release.yaml", key_path
    assert image.locate(("spec", "replicas")).line == line_of(release, "replicas:")
    assert image.locate((*containers, 0, "image")).line == line_of(release, "image:")
    assert image.locate((*containers, 0, "env", 0, "value")).path == "input/deployment.yaml"


REPLACEMENT_OBJECTS = (
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: one\ndata:\n  a: b\n---\n"
    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: two\ndata:\n  a: c\n---\n"
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n"
    "    spec:\n      containers:\n        - name: web\n          image: web:1\n"
)


def replacement_notes(tmp_path: Path, replacements: str, extra: dict[str, str] | None = None) -> Build:
    write(
        tmp_path,
        {
            "app/objects.yaml": REPLACEMENT_OBJECTS,
            "app/kustomization.yaml": "resources: [objects.yaml]\nreplacements:\n" + replacements,
            **(extra or {}),
        },
    )
    built = build(tmp_path / "app", tmp_path)
    # kustomize refuses the whole build; rail notes it and builds everything else.
    assert sorted(obj.name for obj in built.objects) == ["one", "two", "web"]
    assert {note.feature for note in built.notes} <= {"replacements", "missing-file"}
    return built


def test_a_source_matching_nothing_is_a_note(tmp_path: Path) -> None:
    built = replacement_notes(
        tmp_path, "  - source: {kind: Secret}\n    targets:\n      - select: {kind: Deployment}\n"
    )
    [note] = built.notes
    assert (note.file, note.line) == ("app/kustomization.yaml", 3)
    assert "no object matches the replacement source (kind=Secret)" in note.message


def test_a_source_matching_several_objects_is_a_note(tmp_path: Path) -> None:
    built = replacement_notes(
        tmp_path,
        "  - source: {kind: ConfigMap, fieldPath: data.a}\n"
        "    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [metadata.labels.a]\n",
    )
    [note] = built.notes
    assert note.line == 3 and "2 objects match the replacement source (kind=ConfigMap)" in note.message
    assert find(built, "Deployment", "web").data["metadata"] == {"name": "web"}


def test_bad_field_paths_are_notes(tmp_path: Path) -> None:
    built = replacement_notes(
        tmp_path,
        "  - path: replacements.yaml\n",
        {
            "app/replacements.yaml": (
                "- source: {kind: ConfigMap, name: one, fieldPath: data.a}\n"  # 1
                "  targets:\n"
                "    - select: {kind: Deployment}\n"
                "      fieldPaths:\n"
                "        - spec.template.spec.containers.image\n"  # 5: through a list
                "        - spec.template.spec.containers.[name=web].image\n"
                "        - spec.missing\n"  # 7: missing, no create
                "        - spec.template.spec.containers.[name].image\n"  # 8: not [field=value]
                "- source: {kind: ConfigMap, name: one, fieldPath: data.nope}\n"  # 9
                "  targets:\n    - select: {kind: Deployment}\n"
                "- source: {kind: ConfigMap, name: one, fieldPath: data.*}\n"  # 12
                "  targets:\n    - select: {kind: Deployment}\n"
            )
        },
    )
    found = [(note.file, note.line, note.message) for note in built.notes]
    assert [(file, line) for file, line, _ in found] == [("app/replacements.yaml", line) for line in (5, 7, 8, 9, 12)]
    assert "found list" in found[0][2] and "containers.image" in found[0][2]
    assert "cannot find field 'spec.missing' of Deployment 'web'" in found[1][2]
    assert "must read [field=value]" in found[2][2]
    assert "'data.nope' is missing" in found[3][2]
    assert "wildcard" in found[4][2]
    # The good field path of the first replacement was still written.
    web = find(built, "Deployment", "web")
    assert web.data["spec"]["template"]["spec"]["containers"][0]["image"] == "b"


def test_malformed_replacements_are_notes(tmp_path: Path) -> None:
    built = replacement_notes(
        tmp_path,
        "  - path: r.yaml\n    source: {kind: ConfigMap}\n"  # 3: both
        "  - source: {kind: ConfigMap, name: one}\n"  # 5: no targets
        "  - source: {kind: ConfigMap, name: one}\n    targets:\n      - fieldPaths: [a]\n"  # 6, 8: no select
        "  - source: {kind: ConfigMap, name: one, colour: red}\n"  # 9: unknown field
        "    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [metadata.annotations.x]\n"
        "        options: {create: true}\n"
        "  - path: missing.yaml\n",  # 14
    )
    lines = [(note.line, note.message) for note in built.notes]
    assert [note.feature for note in built.notes] == ["replacements"] * 4 + ["missing-file"]
    assert [line for line, _ in lines] == [3, 5, 8, 9, 14]
    assert "both a path and inline fields" in lines[0][1]
    assert "needs a source and at least one target" in lines[1][1]
    assert "must select resources" in lines[2][1]
    assert "unknown replacement field 'colour'" in lines[3][1]
    assert "does not exist" in lines[4][1]
    # An unknown field is noted, and the replacement still runs (as a file would).
    assert find(built, "Deployment", "web").data["metadata"]["annotations"] == {"x": "one"}


def test_an_index_out_of_bounds_never_shows_the_source_value(tmp_path: Path) -> None:
    """The source may be a Secret's value: the note says how many parts it has, not what it holds."""
    built = replacement_notes(
        tmp_path,
        "  - source: {kind: ConfigMap, name: one, fieldPath: data.a, options: {delimiter: ':', index: 3}}\n"
        "    targets:\n      - select: {kind: Deployment}\n        fieldPaths: [metadata.annotations.x]\n",
    )
    [note] = built.notes
    assert "index 3 is out of bounds: the source value has 1 part(s)" in note.message
    assert "'b'" not in note.message
