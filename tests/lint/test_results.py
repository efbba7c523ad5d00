"""Per-object rule results from the cache (renderer/lint/results.py): the same findings and
notes, in the same order, with and without it; hits, misses and invalidation.

``renderer.cache`` is replaced by a dict (``enabled`` -> True, every key admitted at its
first sighting): these tests prove what the lint engine stores and reuses, whatever store
sits behind the five functions (admission on second sighting: tests/cache/test_seen.py).
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from conftest import REPO_ROOT, copy_stack
from test_rule_cases import _build, _cases

from renderer import cache
from renderer.app import run_lint, run_render
from renderer.diff.rules import DIFF_RULES
from renderer.lint import results
from renderer.lint.engine import LintResult
from renderer.lint.finding import Finding, Location, ObjectRef
from renderer.lint.notes import Note
from renderer.lint.rule import GRAPH_WIDE, PER_OBJECT, SCOPES, LintOptions
from renderer.lint.rules import RULES
from renderer.yamlio import load_document


@dataclass
class FakeCache:
    entries: dict[tuple[str, str], bytes] = field(default_factory=dict)
    on: bool = True
    hits: int = 0
    misses: int = 0
    puts: int = 0
    hit: list[bytes] = field(default_factory=list)  # what the hits read

    def get(self, kind: str, key: str) -> bytes | None:
        found = self.entries.get((kind, key))
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            self.hit.append(found)
        return found

    def admit(self, kind: str, key: str) -> bool:
        return self.on

    def put(self, kind: str, key: str, payload: bytes) -> None:
        self.puts += 1
        self.entries[(kind, key)] = payload

    def reset_counts(self) -> None:
        self.hits = self.misses = self.puts = 0
        self.hit.clear()


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeCache:
    store = FakeCache()
    monkeypatch.setattr(cache, "enabled", lambda: store.on)
    monkeypatch.setattr(cache, "get", store.get)
    monkeypatch.setattr(cache, "admit", store.admit)
    monkeypatch.setattr(cache, "put", store.put)
    return store


def _report(result: LintResult) -> str:
    """Everything a report prints of a run, in order."""
    return json.dumps(
        {
            "findings": [f.to_json() for f in result.findings],
            "suppressed": [f.to_json() for f in result.suppressed],
            "notes": list(result.notes),
        },
        indent=1,
    )


# --------------------------------------------------------------------------- scopes


@pytest.mark.parametrize("rule", [*RULES, *DIFF_RULES], ids=lambda rule: rule.id)
def test_every_rule_declares_its_scope(rule: Any) -> None:
    assert rule.scope in SCOPES


def test_the_per_object_rules_are_the_ones_read_to_be() -> None:
    """A rule moved between scopes is a decision: this list changes with it."""
    assert {rule.id for rule in RULES if rule.scope == PER_OBJECT} == {"crd-schema", "symlink-escape"}
    assert {rule.id for rule in DIFF_RULES if rule.scope == PER_OBJECT} == {
        "chart-major-bump",
        "ha-downgrade",
        "persistence-shrink",
        "volume-class-change",
    }
    assert all(rule.scope == GRAPH_WIDE for rule in RULES if rule.id == "plaintext-secret")


def test_explain_says_the_scope(run_rail: Any, repo_root: Path) -> None:
    done = run_rail("explain", "crd-schema", cwd=repo_root)
    assert done.returncode == 0 and "Scope: per-object" in done.stdout
    done = run_rail("explain", "layer-dependency", cwd=repo_root)
    assert "Scope: graph-wide" in done.stdout


# --------------------------------------------------------------------------- stored form


def test_a_finding_and_a_note_survive_the_stored_form() -> None:
    finding = Finding(
        rule="crd-schema",
        message="HelmRelease 'x': unknown key 'intervall'",
        location=Location("a.yaml", 3, 5),
        object=ObjectRef("HelmRelease", None, "x"),
        severity="warning",
        hint="did you mean 'interval'?",
        related=(Location("b.yaml"), Location("c.yaml", 1, None)),
        change="moved",
    )
    notes: list[str | Note] = ["a plain note", Note("no-schema", "m", "p.yaml", "d")]
    payload = results._stored([finding], notes)
    assert payload is not None
    assert results._decode(payload) == ([finding], notes)


@pytest.mark.parametrize("payload", [b"", b"{", b"[]", b'{"findings": [{"rule": 1}], "notes": []}', b"\xff"])
def test_a_torn_or_foreign_entry_is_not_trusted(payload: bytes) -> None:
    assert results._decode(payload) is None


def test_an_entry_the_classifier_calls_secret_is_not_stored() -> None:
    leaky = Finding(rule="x", message="ghp_" + "a1B2" * 9, location=Location("a.yaml"))
    assert results._stored([leaky], []) is None


# --------------------------------------------------------------------------- the engine


def _shipped(tmp_path: Path) -> Path:
    root = copy_stack(REPO_ROOT, tmp_path / "stack", outputs=False)
    run_render(root, "all", check=False)
    # A literal password typed into a spec (after the render, which refuses it): plaintext-secret
    # scans each spec and values file on its own, and keeps the key paths it found.
    spec = root / "releases/s3/valkey.yaml"
    spec.write_text(
        spec.read_text().replace("  architecture: standalone", "  architecture: standalone\n  password: canary-spec")
    )
    # Something for the cached rules to find: a HelmRelease its CRD rejects, a ConfigMap
    # holding a password, a Secret (of which only "no findings" is kept) and an object of an
    # unserved version (a note).
    extra = root / "extra"
    extra.mkdir()
    (extra / "bad.yaml").write_text(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: bad, namespace: apps}\n"
        "spec:\n  intervall: 10m\n  chart: {spec: {chart: x, version: 1.0.0,"
        " sourceRef: {kind: HelmRepository, name: r}}}\n"
        "---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: apps}\n"
        "data: {DB_PASSWORD: canary-hunter2-canary}\n"
        "---\napiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: apps}\n"
        "stringData: {password: canary-secret-canary}\n"
        "---\napiVersion: helm.toolkit.fluxcd.io/v2beta1\nkind: HelmRelease\nmetadata: {name: old, namespace: apps}\n"
        "spec:\n  chart: {spec: {chart: x, version: 1.0.0, sourceRef: {kind: HelmRepository, name: r}}}\n",
        encoding="utf-8",
    )
    return root


def test_the_shipped_stack_lints_the_same_cold_warm_and_without_the_cache(tmp_path: Path, fake: FakeCache) -> None:
    root = _shipped(tmp_path)
    paths = [root / "extra"]
    fake.on = False
    plain = _report(run_lint(root, paths, LintOptions()))
    assert fake.puts == fake.hits == 0
    fake.on = True
    cold = _report(run_lint(root, paths, LintOptions()))
    assert fake.puts > 0 and fake.hits == 0
    stored = fake.puts
    fake.reset_counts()
    warm = _report(run_lint(root, paths, LintOptions()))
    assert fake.puts == 0 and fake.hits == stored
    assert plain == cold == warm
    assert "crd-schema" in plain and "deprecated version" in plain
    assert "plaintext secret at values.password" in plain and "plaintext secret at data.DB_PASSWORD" in plain
    everything = b"".join(fake.entries.values())
    assert b"canary" not in everything  # no value, and nothing of the Secret


def test_a_changed_object_is_judged_again_and_only_it(tmp_path: Path, fake: FakeCache) -> None:
    root = _shipped(tmp_path)
    paths = [root / "extra"]
    run_lint(root, paths, LintOptions())
    stored = fake.puts
    fake.reset_counts()
    bad = root / "extra" / "bad.yaml"
    bad.write_text(bad.read_text().replace("intervall: 10m", "intervall: 10m\n  timeoutt: 1m"), encoding="utf-8")
    before = dict(fake.entries)
    changed = run_lint(root, paths, LintOptions())
    # The changed file's objects are new keys (crd-schema: both HelmReleases, the ConfigMap and
    # the Secret's clean marker; plaintext-secret: the same three, the Secret never; the places
    # of the keys the graph's findings point at in its two HelmReleases); everything else hits.
    assert fake.puts == 9 and fake.hits == stored - 9
    places = [payload for key, payload in fake.entries.items() if key not in before and b"findings" not in payload]
    assert sorted(places) == [b"23,44", b"7,44", b"clean"]
    fake.on = False
    assert _report(changed) == _report(run_lint(root, paths, LintOptions()))
    assert "timeoutt" in _report(changed)


def test_the_rules_options_are_part_of_the_key(tmp_path: Path, fake: FakeCache) -> None:
    root = _shipped(tmp_path)
    run_lint(root, [], LintOptions())
    fake.reset_counts()
    run_lint(root, [], LintOptions(exhaustive=True))
    # Only the places of keys come back (renderer.lint.documents): they depend on no option.
    assert all(re.fullmatch(rb"[0-9]*,[0-9]*", payload) for payload in fake.hit)
    assert fake.hits == len(fake.hit) and fake.puts > 0


def test_a_torn_entry_is_recomputed_and_rewritten(tmp_path: Path, fake: FakeCache) -> None:
    root = _shipped(tmp_path)
    paths = [root / "extra"]
    first = _report(run_lint(root, paths, LintOptions()))
    for key in fake.entries:
        fake.entries[key] = b'{"findings": [{"rule": 1}]'
    fake.reset_counts()
    assert _report(run_lint(root, paths, LintOptions())) == first
    assert fake.puts == len(fake.entries)
    assert b'{"findings": [{"rule": 1}]' not in fake.entries.values()


@pytest.mark.parametrize("case", _cases(), ids=lambda path: f"{path.parent.name}/{path.name}")
def test_every_rule_case_lints_the_same_with_the_cache(case: Path, tmp_path: Path, fake: FakeCache) -> None:
    spec = load_document((case / "case.yaml").read_text(encoding="utf-8"), str(case / "case.yaml")).data
    work = _build(case, spec, tmp_path)
    args = spec.get("args", [])
    paths = [] if spec.get("base") == "shipped" else [work]
    options = LintOptions(exhaustive="--exhaustive" in args, strict="--strict" in args)
    fake.on = False
    plain = _report(run_lint(work, paths, options))
    fake.on = True
    cold = _report(run_lint(work, paths, options))
    warm = _report(run_lint(work, paths, options))
    assert plain == cold == warm
    shutil.rmtree(work)


def test_key_paths_come_back_with_their_types_and_odd_keys_are_not_kept(fake: FakeCache) -> None:
    from renderer.lint.graph import ReleaseGraph
    from renderer.lint.rule import LintContext
    from renderer.model import StackConfig

    context = LintContext(graph=ReleaseGraph(config=StackConfig.default(), manifests=[]), cached=True)
    hits = [(("values", "env", 0, "value"), "a literal under a key that names a secret")]
    assert results.key_paths(context, "r", "k1", lambda: hits) == hits
    assert results.key_paths(context, "r", "k1", lambda: []) == hits  # from the cache, with 0 an int again
    odd = [(("values", True), "why")]  # a YAML boolean key: JSON would bring it back as a string
    assert results.key_paths(context, "r", "k2", lambda: odd) == odd
    assert results.key_paths(context, "r", "k2", lambda: []) == []


def test_of_a_clean_only_unit_only_no_findings_is_kept_as_a_marker(fake: FakeCache) -> None:
    from renderer.lint.graph import ReleaseGraph
    from renderer.lint.rule import LintContext
    from renderer.model import StackConfig

    context = LintContext(graph=ReleaseGraph(config=StackConfig.default(), manifests=[]), cached=True)
    finding = Finding(rule="r", message="unknown key 'stringDataa'", location=Location("s.yaml", 3, 1))
    judged: list[str] = []

    def check_one(item: str) -> list[Finding]:
        judged.append(item)
        if item == "noted":
            context.graph.notes.append("s.yaml: a note")
        return [finding] if item == "found" else []

    units = [results.Unit(item, f"key-{item}", clean_only=True) for item in ("found", "clean", "noted")]
    assert list(results.each_object(context, "r", units, check_one)) == [finding]
    assert list(fake.entries.values()) == [results.CLEAN]  # a Secret's findings and notes never
    judged.clear()
    assert list(results.each_object(context, "r", units, check_one)) == [finding]
    assert judged == ["found", "noted"]  # the clean one from its marker
    for key in fake.entries:
        fake.entries[key] = b'{"findings":[],"notes":["planted"]}'  # not a marker: not trusted
    judged.clear()
    list(results.each_object(context, "r", units, check_one))
    assert judged == ["found", "clean", "noted"] and "planted" not in context.graph.notes


def test_the_entries_read_back_without_parsing_are_the_ones_an_empty_result_writes(fake: FakeCache) -> None:
    from renderer.lint.graph import ReleaseGraph
    from renderer.lint.rule import LintContext
    from renderer.model import StackConfig

    context = LintContext(graph=ReleaseGraph(config=StackConfig.default(), manifests=[]), cached=True)
    assert results.key_paths(context, "r", "k", lambda: []) == []
    units = [results.Unit("clean", "key-clean")]
    assert list(results.each_object(context, "r", units, lambda item: [])) == []
    written = sorted(fake.entries.values())
    assert written == sorted([results._NO_PATHS, results._NOTHING])
    assert results._decode(results._NOTHING) == ([], [])
    assert results._paths_from(results._NO_PATHS) == []
    fake.reset_counts()
    assert results.key_paths(context, "r", "k", lambda: pytest.fail("judged again")) == []
    assert list(results.each_object(context, "r", units, lambda item: pytest.fail("judged again"))) == []
    assert fake.hits == 2


def test_entries_a_side_resolved_answer_the_next_run_with_no_lookup(fake: FakeCache) -> None:
    """What one lint resolved (recorded, as a kept diff side keeps it) answers the next run's
    lint, which shares it: no cache lookup, no rule run, the same findings and key paths.
    An entry not fit to keep (a finding the classifier calls secret) is not recorded."""
    from renderer.lint.graph import ReleaseGraph
    from renderer.lint.rule import LintContext
    from renderer.model import StackConfig

    def context() -> LintContext:
        return LintContext(graph=ReleaseGraph(config=StackConfig.default(), manifests=[]), cached=True)

    finding = Finding(rule="r", message="unknown key 'intervall'", location=Location("a.yaml", 3, 1))
    leaky = Finding(rule="r", message="ghp_" + "a1B2" * 9, location=Location("b.yaml", 1, 1))
    by_item = {"found": [finding], "clean": [], "leaky": [leaky]}
    units = [results.Unit(item, f"key-{item}") for item in by_item]
    hits = [(("values", "password"), "a literal under a key that names a secret")]
    with results.sharing_resolved(), results.recording() as recorded:
        assert list(results.each_object(context(), "r", units, lambda item: by_item[item])) == [finding, leaky]
        assert results.key_paths(context(), "r", "k", lambda: hits) == hits
    assert len(recorded) == 3  # found, clean and the key paths: the leaky one is not kept anywhere
    assert all(b"ghp_" not in payload for payload in recorded.values())

    fake.entries.clear()
    fake.reset_counts()
    judged: list[str] = []

    def judge(item: str) -> list[Finding]:
        judged.append(item)
        return by_item[item]

    with results.sharing_resolved():
        results.share_resolved(recorded)
        assert list(results.each_object(context(), "r", units, judge)) == [finding, leaky]
        assert results.key_paths(context(), "r", "k", lambda: pytest.fail("judged again")) == hits
    assert judged == ["leaky"] and fake.hits == 0 and fake.misses == 1  # the leaky one, judged again
    with results.sharing_resolved():  # another scope: nothing shared, the cache is asked
        list(results.each_object(context(), "r", units, judge))
    assert fake.misses == 4


def test_a_key_spells_the_content_and_the_rules_words_and_refuses_a_nul() -> None:
    document = load_document("a: 1\n", "a.yaml")
    one, other = results.document_key(document, "patch=True"), results.document_key(document, "patch=False")
    assert one is not None and other is not None and one != other
    with pytest.raises(ValueError):
        results.document_key(document, "patch\0=True")
