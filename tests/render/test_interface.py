"""The stack's interface file, ``rendered/interface.yaml`` (issue 15)."""

from __future__ import annotations

import secrets
import shutil
from pathlib import Path

import pytest
from conftest import REPO_ROOT, rail

from renderer.load import load_stack
from renderer.model.interface import Interface
from renderer.render import render_stack
from renderer.render.interface import interface_of
from renderer.yamlio import Document, load_document

EXAMPLE = REPO_ROOT / "examples" / "multi-repo"
SOPS = "secrets/s3/postgresql-ha-credentials.sops.yaml"


def _interface(root: Path) -> Interface:
    path = root / "rendered" / "interface.yaml"
    return Interface.from_document(load_document(path.read_text(encoding="utf-8"), "interface.yaml"))


def test_the_shipped_interface_names_exports_secret_names_and_keys() -> None:
    interface = _interface(REPO_ROOT)
    assert interface.stack == "railiance"
    assert [layer.id for layer in interface.layers] == ["S2", "S3", "S5"]
    database = interface.release("postgresql-ha")
    assert database is not None
    assert (database.layer, database.service_class, database.namespace) == ("S3", "database", "platform")
    assert (database.chart, database.version) == ("postgresql-ha", "16.3.4")
    export = database.export("database")
    assert export is not None
    assert export.field("address") == "postgresql-ha-pgpool.platform.svc.cluster.local:5432"
    assert export.secret_name == "postgresql-ha-credentials"
    assert export.secret_keys == (
        "admin-password",
        "password",
        "postgres-password",
        "repmgr-password",
        "sr-check-password",
    )
    assert interface.flux is not None and interface.flux.kustomizations == ("s2-cluster", "s3-platform", "s5-apps")


@pytest.mark.parametrize("stack", [REPO_ROOT, EXAMPLE / "platform"], ids=["shipped", "multi-repo-platform"])
def test_the_interface_text_reads_back_as_the_model_it_was_written_from(stack: Path) -> None:
    loaded = load_stack(stack, refuse_plaintext=False)
    rendered = render_stack(loaded, loaded.stack.config.targets)
    written = next(file for file in rendered.files if file.path.endswith("/interface.yaml"))
    data = interface_of(loaded, rendered.resolution).to_data()
    read = Interface.from_document(load_document(written.content.decode("utf-8"), "interface.yaml"))
    assert read.releases and any(release.exports for release in read.releases)
    assert Interface.from_document(Document(path="interface.yaml", data=data)) == read


def test_a_stale_interface_is_drift(tmp_path: Path) -> None:
    stack = tmp_path / "platform"
    shutil.copytree(EXAMPLE / "platform", stack)
    shutil.copytree(EXAMPLE / "cluster", tmp_path / "cluster")
    spec = stack / "releases/s3/postgresql-ha.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("port: 5432", "port: 5433"), encoding="utf-8")
    done = rail("render", "--check", cwd=stack)
    assert done.returncode == 1
    assert "stale: rendered/interface.yaml" in done.stdout.splitlines()
    # Rendering one target still judges (and writes) the interface.
    assert "stale: rendered/interface.yaml" in rail("render", "--check", "--target", "flux", cwd=stack).stdout
    assert rail("render", "--target", "argo", cwd=stack).returncode == 0
    assert "port: 5433" in (stack / "rendered/interface.yaml").read_text()


def _canary() -> str:
    # Built at run time: no secret-shaped token is written in this file.
    return "cnry" + secrets.token_hex(16)


def test_the_interface_holds_no_secret_value(tmp_path: Path) -> None:
    """Canaries in the platform's SOPS file (an encrypted value, its MAC, a plain value)
    and in a consumer's reference chain: the interface files and every report lack them."""
    for name in ("cluster", "platform", "apps"):
        shutil.copytree(EXAMPLE / name, tmp_path / name)
    platform, apps = tmp_path / "platform", tmp_path / "apps"
    encrypted, mac = _canary(), _canary()
    sops = platform / SOPS
    text = sops.read_text(encoding="utf-8")
    text = text.replace(
        "stringData:\n",
        f"stringData:\n    canary-key: ENC[AES256_GCM,data:{encrypted},iv:aaaa,tag:bbbb,type:str]\n",
    )
    assert "    mac: ENC[AES256_GCM,data:" in text
    text = text.replace("    mac: ENC[AES256_GCM,data:", f"    mac: ENC[AES256_GCM,data:{mac}", 1)
    sops.write_text(text, encoding="utf-8")
    assert rail("render", cwd=platform).returncode == 0
    assert rail("render", cwd=apps).returncode == 0
    interfaces = [(root / "rendered/interface.yaml").read_text(encoding="utf-8") for root in (platform, apps)]
    assert "canary-key" in interfaces[0]  # the key's name is part of the interface ...
    for interface in interfaces:
        for canary in (encrypted, mac):
            assert canary not in interface  # ... never its value
            assert canary[4:14] not in interface
    # A plain value (lint reads it; render refuses it): no report shows it either.
    plain = _canary()
    sops.write_text(text.replace("stringData:\n", f"stringData:\n    plain-key: {plain}\n"), encoding="utf-8")
    outputs = [rail("render", cwd=platform)]
    outputs += [
        rail(command, "--format", "json", cwd=root) for command in ("lint", "check") for root in (platform, apps)
    ]
    assert outputs[0].returncode == 2
    for done in outputs:
        assert plain not in done.stdout + done.stderr
    assert plain not in (platform / "rendered/interface.yaml").read_text(encoding="utf-8")


@pytest.mark.parametrize("stack", ["platform", "apps"])
def test_the_interface_is_the_same_bytes_in_every_environment(tmp_path: Path, stack: str) -> None:
    environments = [
        {"PYTHONHASHSEED": "0", "LC_ALL": "C"},
        {"PYTHONHASHSEED": "1", "LC_ALL": "C.UTF-8"},
        {"PYTHONHASHSEED": "4242", "LC_ALL": "tr_TR.UTF-8", "LANG": "tr_TR.UTF-8"},
        {"PYTHONHASHSEED": "random", "LC_ALL": "de_DE.UTF-8", "TZ": "Pacific/Kiritimati"},
    ]
    results = []
    for index, environment in enumerate(environments):
        work = tmp_path / str(index)
        for name in ("cluster", "platform", "apps"):
            shutil.copytree(EXAMPLE / name, work / name)
            (work / name / "rendered" / "interface.yaml").unlink()
        for name in ("cluster", "platform", "apps"):
            done = rail("render", cwd=work / name, env=environment)
            assert done.returncode == 0, done.stderr
        results.append((work / stack / "rendered" / "interface.yaml").read_bytes())
    assert all(result == results[0] for result in results)
    # ... and the bytes committed in the example.
    assert results[0] == (EXAMPLE / stack / "rendered" / "interface.yaml").read_bytes()


def test_the_interface_is_stored_and_served_byte_for_byte(
    cache_folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conftest import copy_stack

    from renderer.app import caching, run_render
    from renderer.cache import store
    from renderer.render import interface

    def entries() -> list[Path]:
        return [path for path in (cache_folder / store.layout_name() / "interface").rglob("*") if path.is_file()]

    first = copy_stack(REPO_ROOT, tmp_path / "first", outputs=False)
    for _ in range(2):  # seen, then stored
        with caching():
            run_render(first, "all", check=False)
    assert len(entries()) == 1
    expected = (first / "rendered" / "interface.yaml").read_bytes()

    def no_dump(*args: object) -> str:
        raise AssertionError("dumped again")

    monkeypatch.setattr(interface, "dump", no_dump)
    second = copy_stack(REPO_ROOT, tmp_path / "second", outputs=False)
    with caching():
        run_render(second, "all", check=False)
    assert (second / "rendered" / "interface.yaml").read_bytes() == expected
    spec = second / "releases" / "s3" / "valkey.yaml"
    spec.write_text(spec.read_text(encoding="utf-8").replace("port: 6379", "port: 6380"), encoding="utf-8")
    with caching(), pytest.raises(AssertionError, match="dumped again"):  # another interface: dumped
        run_render(second, "all", check=False)


def test_data_that_repr_may_not_tell_apart_has_no_key(cache_folder: Path) -> None:
    from renderer.render.interface import _text_key

    class Text(str):
        pass

    assert _text_key({"a": [1, {"b": None}]}) is not None
    assert _text_key({"a": 1}) != _text_key({"a": True}) != _text_key({"a": "1"})
    assert _text_key({"a": Text("1")}) is None
