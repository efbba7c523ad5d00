"""kustomize's configMapGenerator and secretGenerator, as rail builds them.

The cases under ``tests/cases/generators/<case>/`` are built twice: by rail
(generators, behaviors, the name suffix, and the references renamed in the
Deployments, HelmReleases... beside them) and by ``kubectl kustomize``. The cases
use no other transformer, so every object must come out the same, byte for byte.
The unit tests pin the hash to kustomize's own test vectors and to names kubectl
gave, and check that no input is read from outside the repository.
"""

from __future__ import annotations

import base64
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from renderer.apply.generators import (
    CONFIG_MAP,
    SECRET,
    FieldSpec,
    Generated,
    NameReference,
    absorb,
    encode_base64,
    generate,
    generate_all,
    hashed_name,
    load_configurations,
    name_hash,
    parse_env,
    rename_references,
    split_path,
    suffix_names,
)
from renderer.errors import Problem
from renderer.yamlio import load_document, load_documents

CASES = Path(__file__).resolve().parent.parent / "cases" / "generators"
CASE_NAMES = sorted(path.name for path in CASES.iterdir() if (path / "kustomization.yaml").is_file())


# --------------------------------------------------------------------------- the cases against kubectl


@dataclass
class Built:
    """What a kustomization and its bases hold, as far as generators go."""

    generated: list[Generated] = field(default_factory=list)
    referrers: list[dict[str, Any]] = field(default_factory=list)
    references: list[NameReference] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)


def build(folder: Path, root: Path) -> Built:
    """A small stand-in for the kustomize builder: resources (bases first), then the
    configurations, then both generators with their behaviors."""
    path = folder / "kustomization.yaml"
    document = load_document(path.read_text(encoding="utf-8"), path.relative_to(root).as_posix())
    data = document.data
    built = Built()
    for entry in data.get("resources", []):
        target = folder / entry
        if target.is_dir():
            base = build(target, root)
            built.generated += base.generated
            built.referrers += base.referrers
            built.references += base.references
            built.notes += base.notes
            continue
        for doc in load_documents(target.read_text(encoding="utf-8"), target.relative_to(root).as_posix()):
            if doc.data is None:
                continue
            if doc.data["kind"] in (CONFIG_MAP, SECRET):
                built.generated.append(Generated.of_resource(doc.data, doc.path, doc.locate(())[0]))
            else:
                built.referrers.append(doc.data)
    references, notes = load_configurations(data.get("configurations", []), folder, root, document=document)
    built.references += references
    built.notes += notes
    result = generate_all(data, folder, root, built.generated, document=document)
    built.generated = list(result.objects)
    built.notes += result.notes
    return built


def by_id(objects: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(obj["kind"], obj["metadata"]["name"]): obj for obj in objects}


@pytest.fixture(scope="module")
def kubectl() -> str:
    found = shutil.which("kubectl")
    if found is None:
        pytest.skip("kubectl is not on PATH: cannot compare the generators with kubectl kustomize")
    return found


@pytest.mark.slow
@pytest.mark.parametrize("case", CASE_NAMES)
def test_case_matches_kubectl(case: str, kubectl: str) -> None:
    folder = CASES / case
    result = subprocess.run(
        [kubectl, "kustomize", str(folder)], capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, f"kubectl kustomize {case} failed:\n{result.stderr}"
    theirs = by_id([doc.data for doc in load_documents(result.stdout, "kubectl") if doc.data is not None])

    built = build(folder, folder)
    assert built.notes == []
    suffixed = suffix_names(built.generated)
    generated = by_id([item.obj for item in suffixed.objects])
    referrers = by_id(rename_references(built.referrers, suffixed.renames, built.references))

    # Names first (the hash suffixes), then each object whole.
    assert sorted(generated) == sorted(key for key in theirs if key[0] in (CONFIG_MAP, SECRET))
    assert sorted(referrers) == sorted(key for key in theirs if key[0] not in (CONFIG_MAP, SECRET))
    for key, obj in {**generated, **referrers}.items():
        assert obj == theirs[key], key


def test_every_case_is_listed() -> None:
    assert set(CASE_NAMES) >= {
        "literals",
        "files",
        "envfiles",
        "secret-type",
        "options",
        "disable-hash",
        "binary",
        "merge",
        "helmrelease",
    }


# --------------------------------------------------------------------------- the name suffix


def config_map(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": CONFIG_MAP, **fields}


def secret(**fields: Any) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": SECRET, **fields}


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        # kustomize's api/hasher/hasher_test.go
        (config_map(), "6ct58987ht"),
        (config_map(data={"one": ""}), "9g67k2htb6"),
        (config_map(data={"two": 2, "one": "", "three": 3}), "7757f9kkct"),
        (config_map(binaryData={"one": ""}), "6mtk2m274t"),
        (config_map(binaryData={"two": 2, "one": "", "three": 3}), "9th7kc28dg"),
        (config_map(data={"one": ""}, binaryData={"two": ""}), "698h7c7t9m"),
        (secret(type="my-type"), "5gmgkf8578"),
        (secret(type="my-type", data={"one": ""}), "74bd68bm66"),
        (secret(type="my-type", data={"two": 2, "one": "", "three": 3}), "4gf75c7476"),
        (secret(type="my-type", data={"one": ""}, stringData={"two": 2}), "c4h4264gdb"),
    ],
)
def test_name_hash_matches_kustomize_test_vectors(obj: dict[str, Any], expected: str) -> None:
    assert name_hash(obj) == expected


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        # Names kubectl kustomize (kustomize v5.5.0) gave these objects.
        (
            config_map(
                metadata={"name": "cm"},
                data={
                    "A": "1",
                    "B ": " two  ",
                    "C": '"quoted"',
                    "D": "'single'",
                    "E": "x=y",
                    "L1": "hello",
                    "L2": "a b",
                    "L3": "<&>",
                    "L4": "é",
                    "export F": "1",
                    "file.txt": "line one   \nline two\t\nlast  ",
                    "k2": "line one   \nline two\t\nlast  ",
                },
            ),
            "cm-2982kgbk89",
        ),
        (secret(metadata={"name": "sec"}, type="kubernetes.io/tls", data={"X": "MQ=="}), "sec-6ktm9b6c7m"),
        # Go's JSON escapes: \b and \f short, other controls \u00XX, <>& and U+2028 escaped.
        (
            config_map(
                metadata={"name": "cm", "labels": {"ignored": "by the hash"}},
                immutable=True,
                data={
                    "\x1cE": "5",
                    "A": "1",
                    "B": "2",
                    "C": "3",
                    "CTL": "a\bb\fc\x1b<>&\u2028",
                    "D": "4",
                    "NOVAL": "",
                    "Q": '"x"',
                    "R": "\"x'",
                },
            ),
            "cm-9g552dd52g",
        ),
        (config_map(metadata={"name": "empty"}), "empty-6ct58987ht"),
        (
            config_map(
                metadata={"name": "bin"},
                binaryData={
                    "bin.dat": "ct2yenNXqe9i+64YrzhoX/aL5pehh16S9E1YzgRWNiiZ+SczRgBaEsURhYSleEQpfv2/S6\nZvYbcGJ92w\n"
                },
            ),
            "bin-g46h8fmf7h",
        ),
    ],
)
def test_hashed_name_matches_kubectl(obj: dict[str, Any], expected: str) -> None:
    assert hashed_name(obj) == expected


def test_the_hash_ignores_the_name() -> None:
    """kustomize looks ``metadata/name`` up as one key, so the name never counts."""
    assert name_hash(config_map(metadata={"name": "a"}, data={"k": "v"})) == name_hash(
        config_map(metadata={"name": "b"}, data={"k": "v"})
    )


def test_only_config_maps_and_secrets_are_hashed() -> None:
    with pytest.raises(ValueError, match="only ConfigMaps and Secrets"):
        name_hash({"kind": "Deployment", "metadata": {"name": "x"}})


def test_base64_lines_of_seventy() -> None:
    assert encode_base64(b"x" * 51) == base64.b64encode(b"x" * 51).decode()  # 68 characters: one line
    wrapped = encode_base64(b"x" * 60)  # 80 characters
    assert wrapped.split("\n") == [wrapped[:70], wrapped[71:81], ""]
    assert encode_base64(b"x" * 54).endswith("\n")  # exactly 72: still ends in a newline


# --------------------------------------------------------------------------- sources


def write(path: Path, content: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def kustomization(folder: Path, text: str) -> Any:
    """Write ``kustomization.yaml`` and return its parsed document (path relative to the root)."""
    write(folder / "kustomization.yaml", text)
    return load_document(text, "kustomization.yaml")


def run(folder: Path, text: str, root: Path | None = None) -> tuple[list[dict[str, Any]], list[Problem]]:
    document = kustomization(folder, text)
    result = generate_all(document.data, folder, root or folder, document=document)
    return [item.obj for item in result.objects], list(result.notes)


def test_env_file_rules() -> None:
    content = (
        b"\xef\xbb\xbf# comment\n"
        b"\n"
        b"A=1\r\n"
        b"  \tB = two  \n"
        b'C="quoted"\n'
        b"\xc2\xa0D=nbsp trimmed\n"
        b"\x1cE=not go space\n"
        b"NOVALUE\n"
        b"=no key\n"
        b"F=x=y"
    )
    parsed = parse_env(content)
    assert parsed.error is None
    assert parsed.pairs == (
        ("A", "1"),
        ("B ", " two  "),
        ("C", '"quoted"'),
        ("D", "nbsp trimmed"),
        ("\x1cE", "not go space"),
        ("NOVALUE", ""),
        ("F", "x=y"),
    )


def test_env_file_long_line_drops_the_rest() -> None:
    kept = parse_env(b"A=" + b"x" * 65533 + b"\nZ=1\n")  # 65535 bytes: fits kustomize's scanner
    assert [key for key, _ in kept.pairs] == ["A", "Z"] and kept.error is None
    cut = parse_env(b"Z=1\nA=" + b"x" * 65534 + b"\nY=2\n")
    assert cut.pairs == (("Z", "1"),)
    assert cut.error is not None and cut.error[0] == 2 and cut.complete


def test_env_file_invalid_utf8_is_an_error(tmp_path: Path) -> None:
    write(tmp_path / "bad.env", b"A=1\nB=\xff\n")
    objects, notes = run(tmp_path, "configMapGenerator:\n- name: cm\n  envs: [bad.env]\n")
    assert objects == []
    assert [(note.path, note.line, note.message) for note in notes] == [("bad.env", 2, "line is not valid UTF-8")]


def test_long_env_line_still_builds_the_object(tmp_path: Path) -> None:
    write(tmp_path / "long.env", b"A=1\nB=" + b"x" * 70000 + b"\n")
    objects, notes = run(tmp_path, "configMapGenerator:\n- name: cm\n  envs: [long.env]\n")
    assert [obj["data"] for obj in objects] == [{"A": "1"}]
    assert [(note.path, note.line) for note in notes] == [("long.env", 2)]


def test_literals_and_quotes(tmp_path: Path) -> None:
    objects, notes = run(
        tmp_path,
        "configMapGenerator:\n- name: cm\n  literals:\n"
        "  - A=\"x\"\n  - B='y'\n  - C=\"z'\n  - 'D=\"'\n  - E=a=b\n  - F=\n",
    )
    assert notes == []
    assert objects[0]["data"] == {"A": "x", "B": "y", "C": "\"z'", "D": '"', "E": "a=b", "F": ""}


@pytest.mark.parametrize(
    ("literal", "line"),
    [("novalue", 4), ("=x", 4)],
)
def test_invalid_literal_is_a_note_without_the_value(tmp_path: Path, literal: str, line: int) -> None:
    objects, notes = run(tmp_path, f"secretGenerator:\n- name: s\n  literals:\n  - {literal}\n")
    assert objects == []
    assert [(note.line, note.key_path) for note in notes] == [(line, "secretGenerator[0].literals[0]")]
    assert literal not in notes[0].format()


@pytest.mark.parametrize("source", ["k=", "=x", "a=b=c"])
def test_invalid_file_source(tmp_path: Path, source: str) -> None:
    objects, notes = run(tmp_path, f"configMapGenerator:\n- name: cm\n  files: ['{source}']\n")
    assert objects == [] and len(notes) == 1 and notes[0].key_path == "configMapGenerator[0].files[0]"


def test_repeated_key_is_a_note(tmp_path: Path) -> None:
    objects, notes = run(tmp_path, "configMapGenerator:\n- name: cm\n  literals: [a=1, a=2]\n")
    assert objects == [] and "repeats the key 'a'" in notes[0].message


def test_kustomizes_strict_fields(tmp_path: Path) -> None:
    """kustomize refuses unknown fields and values that are not strings."""
    objects, notes = run(
        tmp_path,
        "configMapGenerator:\n"
        "- name: cm\n  literal: [a=b]\n"
        "- name: typed\n  type: Opaque\n"
        "- name: label\n  options: {labels: {a: 1}}\n"
        "- literals: [a=b]\n"
        "secretGenerator:\n- name: s\n  literals: [{a: b}]\n",
    )
    assert objects == []
    assert [note.key_path for note in notes] == [
        "configMapGenerator[0].literal",
        "configMapGenerator[1].type",
        "configMapGenerator[2].options.labels.a",
        "configMapGenerator[3]",
        "secretGenerator[0].literals[0]",
    ]


def test_generated_objects_know_their_entry(tmp_path: Path) -> None:
    document = kustomization(tmp_path, "# a comment\nconfigMapGenerator:\n- name: a\n- name: b\n  literals: [x=1]\n")
    result = generate(document.data["configMapGenerator"], CONFIG_MAP, tmp_path, tmp_path, document=document)
    assert [(item.name, item.source, item.line) for item in result.objects] == [
        ("a", "kustomization.yaml", 3),
        ("b", "kustomization.yaml", 4),
    ]


# --------------------------------------------------------------------------- paths


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Path]]:
    """Every path opened for reading (the generators read with Path.open)."""
    paths: list[Path] = []
    original = Path.open

    def spy(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        if "r" in mode:
            paths.append(self)
        return original(self, mode, *args, **kwargs)

    monkeypatch.setattr(Path, "open", spy)
    yield paths


def test_dot_dot_past_the_root_is_refused_unread(tmp_path: Path, opened: list[Path]) -> None:
    root = tmp_path / "repo"
    outside = write(tmp_path / "outside.txt", "not for rail")
    objects, notes = run(root / "app", "configMapGenerator:\n- name: cm\n  files: [../../outside.txt]\n", root)
    assert objects == []
    assert [(note.path, note.line, note.key_path) for note in notes] == [
        ("kustomization.yaml", 3, "configMapGenerator[0].files[0]")
    ]
    assert "leaves the repository" in notes[0].message
    assert outside not in opened and outside.resolve() not in opened


def test_dot_dot_inside_the_root_is_allowed(tmp_path: Path) -> None:
    write(tmp_path / "shared" / "common.env", "SHARED=1\n")
    objects, notes = run(
        tmp_path / "app", "configMapGenerator:\n- name: cm\n  envs: [../shared/common.env]\n", tmp_path
    )
    assert notes == [] and objects[0]["data"] == {"SHARED": "1"}


def test_absolute_path_is_refused(tmp_path: Path, opened: list[Path]) -> None:
    target = write(tmp_path / "inside.txt", "x")
    objects, notes = run(tmp_path, f"configMapGenerator:\n- name: cm\n  files: ['{target}']\n")
    assert objects == [] and "absolute path" in notes[0].message and opened == []


def test_symlink_out_of_the_root_is_refused_unread(tmp_path: Path, opened: list[Path]) -> None:
    root = tmp_path / "repo"
    outside = write(tmp_path / "secret.txt", "not for rail")
    root.mkdir()
    os.symlink(outside, root / "link.txt")
    objects, notes = run(root, "secretGenerator:\n- name: s\n  files: [link.txt]\n")
    assert objects == [] and "symlink that leaves the repository" in notes[0].message
    assert opened == []


def test_symlink_inside_the_root_is_followed(tmp_path: Path) -> None:
    write(tmp_path / "real.txt", "content")
    os.symlink(tmp_path / "real.txt", tmp_path / "link.txt")
    objects, notes = run(tmp_path, "configMapGenerator:\n- name: cm\n  files: [link.txt]\n")
    assert notes == [] and objects[0]["data"] == {"link.txt": "content"}


def test_missing_file_names_file_and_line(tmp_path: Path) -> None:
    objects, notes = run(
        tmp_path, "configMapGenerator:\n- name: cm\n  files:\n  - present.txt\n  - missing.txt\n", None
    )
    assert objects == []
    assert [(note.path, note.line, note.key_path) for note in notes[-1:]] == [
        ("kustomization.yaml", 5, "configMapGenerator[0].files[1]")
    ]
    assert "does not exist" in notes[-1].message


@pytest.mark.parametrize(("source", "words"), [("https://example.com/x", "URL"), ("sub", "not a regular file")])
def test_urls_and_folders_are_refused(tmp_path: Path, source: str, words: str) -> None:
    (tmp_path / "sub").mkdir()
    objects, notes = run(tmp_path, f"configMapGenerator:\n- name: cm\n  files: ['k={source}']\n")
    assert objects == [] and words in notes[0].message


def test_configurations_stay_inside_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(tmp_path / "conf.yaml", "nameReference: []\n")
    references, notes = load_configurations(["../conf.yaml"], root, root)
    assert references == () and "leaves the repository" in notes[0].message


# --------------------------------------------------------------------------- behavior


def made(name: str, behavior: str = "create", hash_suffix: bool = True, **fields: Any) -> Generated:
    return Generated(
        obj=config_map(metadata={"name": name}, **fields),
        source="kustomization.yaml",
        behavior=behavior,
        hash_suffix=hash_suffix,
    )


def test_merge_and_replace_need_an_object() -> None:
    result = absorb([], made("cm", "merge"))
    assert result.objects == () and "does not exist" in result.notes[0].message


def test_create_over_an_object_is_a_note() -> None:
    result = absorb([made("cm")], made("cm"))
    assert len(result.objects) == 1 and "already exists" in result.notes[0].message


@pytest.mark.parametrize(
    ("old", "new", "suffix"),
    [(True, True, True), (True, False, False), (False, True, False), (False, False, False)],
)
def test_the_suffix_needs_both_sides(old: bool, new: bool, suffix: bool) -> None:
    """What kubectl kustomize does for merge and replace alike."""
    for behavior in ("merge", "replace"):
        result = absorb([made("cm", hash_suffix=old)], made("cm", behavior, hash_suffix=new))
        assert result.objects[0].hash_suffix is suffix


def test_merge_keeps_the_old_name_and_namespace() -> None:
    old = Generated(
        obj=config_map(
            metadata={"name": "cm", "namespace": "base-ns", "labels": {"a": "old", "b": "old"}}, data={"x": "1"}
        ),
        source="base/kustomization.yaml",
        previous=(("cm", ""),),
    )
    new = Generated(
        obj=config_map(metadata={"name": "cm", "labels": {"a": "new"}}, data={"y": "2"}),
        source="kustomization.yaml",
        behavior="merge",
    )
    merged = absorb([old], new).objects[0]
    assert merged.obj == config_map(
        metadata={"name": "cm", "namespace": "base-ns", "labels": {"a": "new", "b": "old"}}, data={"x": "1", "y": "2"}
    )
    assert merged.source == "base/kustomization.yaml"


# --------------------------------------------------------------------------- references


def pod(namespace: str | None, name: str = "p", kind: str = "Pod", **spec: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    return {"apiVersion": "v1", "kind": kind, "metadata": metadata, "spec": spec}


def test_references_follow_the_namespace() -> None:
    renames = {(CONFIG_MAP, "", "cm"): "cm-h", (CONFIG_MAP, "other", "cm"): "cm-o"}
    volumes = [{"name": "v", "configMap": {"name": "cm"}}]
    renamed = rename_references(
        [
            pod(None, volumes=volumes),
            pod("default", volumes=volumes),
            pod("other", volumes=volumes),
            pod("third", volumes=volumes),
        ],
        renames,
    )
    assert [obj["spec"]["volumes"][0]["configMap"]["name"] for obj in renamed] == ["cm-h", "cm-h", "cm-o", "cm"]


def test_references_leave_the_input_alone() -> None:
    original = pod(None, imagePullSecrets=[{"name": "reg"}])
    renamed = rename_references([original], {(SECRET, "", "reg"): "reg-h"})
    assert renamed[0]["spec"]["imagePullSecrets"] == [{"name": "reg-h"}]
    assert original["spec"]["imagePullSecrets"] == [{"name": "reg"}]


def test_cluster_scoped_referrer_and_string_lists() -> None:
    role: dict[str, Any] = {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole"}
    role["metadata"] = {"name": "r"}
    role["rules"] = [{"resourceNames": ["cm", "other"]}]
    renamed = rename_references([role], {(CONFIG_MAP, "apps", "cm"): "cm-h"})
    assert renamed[0]["rules"][0]["resourceNames"] == ["cm-h", "other"]


def test_a_map_field_gets_name_and_namespace() -> None:
    node: dict[str, Any] = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n"}}
    node["spec"] = {"configSource": {"configMap": {"name": "kubelet", "kubeletConfigKey": "k"}}}
    renamed = rename_references([node], {(CONFIG_MAP, "kube-system", "kubelet"): "kubelet-h"})
    assert renamed[0]["spec"]["configSource"]["configMap"] == {
        "name": "kubelet-h",
        "namespace": "kube-system",
        "kubeletConfigKey": "k",
    }


def test_flux_fields_need_a_configuration() -> None:
    release = {
        "apiVersion": "helm.toolkit.fluxcd.io/v2",
        "kind": "HelmRelease",
        "metadata": {"name": "r"},
        "spec": {"valuesFrom": [{"kind": "Secret", "name": "same"}, {"kind": "ConfigMap", "name": "same"}]},
    }
    renames = {(CONFIG_MAP, "", "same"): "same-cm", (SECRET, "", "same"): "same-secret"}
    assert rename_references([release], renames) == [release]
    configured = [
        NameReference(kind, (FieldSpec(split_path("spec/valuesFrom/name"), kind="HelmRelease"),))
        for kind in (CONFIG_MAP, SECRET)
    ]
    # kustomize reads the path alone, not the kind beside it: both take the ConfigMap's name.
    renamed = rename_references([release], renames, configured)
    assert [item["name"] for item in renamed[0]["spec"]["valuesFrom"]] == ["same-cm", "same-cm"]


def test_split_path_escapes() -> None:
    assert split_path("metadata/annotations/a.io\\/b") == ("metadata", "annotations", "a.io/b")
    assert split_path("spec/items[]/name") == ("spec", "items", "name")


def test_suffix_names_returns_the_renames() -> None:
    items = [made("a", data={"k": "v"}), made("b", hash_suffix=False)]
    suffixed = suffix_names(items)
    assert [item.name for item in suffixed.objects] == [hashed_name(items[0].obj), "b"]
    assert suffixed.renames == {(CONFIG_MAP, "", "a"): hashed_name(items[0].obj)}
    assert suffixed.objects[0].previous == (("a", ""),)
