"""What changed between two object sets, object by object and field by field.

Objects are matched by (group, kind, namespace, name); a release that only changed
namespace (same kind, name and chart) is one move, not a delete and an add; a release
under a new name with the same chart, layer and values is one rename. Equal
objects are found by a type-strict comparison (the same object, when both sides
rendered it once), so deepdiff runs only on the pairs that differ, and only on
their differing parts. Lists Kubernetes merges by ``name`` are compared as maps, so
one inserted container or env var is one change, not a shifted list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..secrets import REFERENCE, classify, contains_secret, is_secret_key, redacted
from .sides import DiffObject, ObjectKey

ADDED, REMOVED, MODIFIED, MOVED = "added", "removed", "modified", "moved"
RENAMED = "renamed"  # a stateful release under a new name: its chart, layer and values kept

# Metadata that changes with every chart release and means nothing to a reviewer.
_NOISE_LABELS = ("helm.sh/chart", "app.kubernetes.io/version", "chart")
_NOISE_ANNOTATION = re.compile(r"^(checksum/|.*/checksum$|rollme$)")


@dataclass(frozen=True)
class FieldChange:
    path: str
    old: Any
    new: Any
    redacted: bool = False


@dataclass(frozen=True)
class ObjectChange:
    change: str
    key: ObjectKey
    old: DiffObject | None
    new: DiffObject | None
    fields: tuple[FieldChange, ...] = ()

    @property
    def current(self) -> DiffObject:
        obj = self.new or self.old
        assert obj is not None
        return obj

    @property
    def layer(self) -> str | None:
        return self.current.layer


@dataclass
class DiffResult:
    changes: list[ObjectChange] = field(default_factory=list)
    noise_hidden: int = 0
    unchanged: int = 0


def _strip_noise(data: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The object without noise, and the noise taken out (to count what differs).

    Every ``metadata`` is cleaned, not only the object's own: charts put their
    ``checksum/config`` annotations on the pod template (``spec.template.metadata``).
    """
    noise: dict[str, Any] = {}
    clean = _strip(data, "", noise)
    return clean if isinstance(clean, dict) else data, noise


def _strip(value: Any, where: str, noise: dict[str, Any]) -> Any:
    if isinstance(value, dict):
        return {
            key: _strip_metadata(item, f"{where}{key}", noise)
            if key == "metadata" and isinstance(item, dict)
            else _strip(item, f"{where}{key}.", noise)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_strip(item, f"{where}{index}.", noise) for index, item in enumerate(value)]
    return value


def _strip_metadata(metadata: dict[str, Any], where: str, noise: dict[str, Any]) -> dict[str, Any]:
    clean = dict(metadata)
    labels = metadata.get("labels")
    if isinstance(labels, dict):
        clean["labels"] = {k: v for k, v in labels.items() if k not in _NOISE_LABELS}
        noise.update({f"{where}:label:{k}": v for k, v in labels.items() if k in _NOISE_LABELS})
    annotations = metadata.get("annotations")
    if isinstance(annotations, dict):
        clean["annotations"] = {k: v for k, v in annotations.items() if not _NOISE_ANNOTATION.match(str(k))}
        noise.update({f"{where}:annotation:{k}": v for k, v in annotations.items() if _NOISE_ANNOTATION.match(str(k))})
    return clean


def _keyed(value: Any) -> Any:
    """Lists of mappings that all carry a unique ``name`` become maps keyed ``[name=x]``."""
    if isinstance(value, dict):
        return {key: _keyed(item) for key, item in value.items()}
    if isinstance(value, list):
        names = [item.get("name") for item in value if isinstance(item, dict)]
        if (
            value
            and len(names) == len(value)
            and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names)
        ):
            return {f"[name={item['name']}]": _keyed(item) for item in value}
        return [_keyed(item) for item in value]
    return value


def _differing(old: Any, new: Any) -> tuple[Any, Any]:
    """Both values with the keys whose values are the same on both sides left out, at every level."""
    if not (isinstance(old, dict) and isinstance(new, dict)):
        return old, new
    old_part: dict[str, Any] = {}
    new_part: dict[str, Any] = {}
    for key, value in old.items():
        if key not in new:
            old_part[key] = value
        elif not _same(value, new[key]):
            old_part[key], new_part[key] = _differing(value, new[key])
    for key, value in new.items():
        if key not in old:
            new_part[key] = value
    return old_part, new_part


def _same_text(old: DiffObject, new: DiffObject) -> bool:
    """Read from the same text: the same data, without walking it."""
    before, after = old.document, new.document
    if before is None or after is None or before.text is None or after.text is None:
        return False
    return before.index == after.index and before.text == after.text


def _same(one: Any, two: Any) -> bool:
    """Equal as data: unlike ==, 1 is not true and 1 is not 1.0 (a diff shows those changes)."""
    if type(one) is not type(two):
        return False
    if isinstance(one, dict):
        return one.keys() == two.keys() and all(_same(value, two[key]) for key, value in one.items())
    if isinstance(one, list):
        return len(one) == len(two) and all(_same(a, b) for a, b in zip(one, two, strict=True))
    return bool(one == two)


def _release_identity(obj: DiffObject) -> tuple[str, str, str] | None:
    """Kind, release name and chart: what stays when a release moves namespace."""
    spec = obj.data.get("spec")
    if not isinstance(spec, dict):
        return None
    chart = None
    chart_spec = (spec.get("chart") or {}).get("spec") if isinstance(spec.get("chart"), dict) else None
    if isinstance(chart_spec, dict):
        chart = chart_spec.get("chart")
    elif isinstance(spec.get("chartRef"), dict):
        chart = spec["chartRef"].get("name")
    elif isinstance(spec.get("source"), dict):  # Argo CD Application (an OCI source names no chart)
        chart = spec["source"].get("chart") or spec["source"].get("repoURL")
    release_name = spec.get("releaseName") or obj.name
    return (obj.kind, str(release_name), str(chart)) if chart else None


def _rename_identity(obj: DiffObject, side: dict[ObjectKey, DiffObject]) -> tuple[str, str, str] | None:
    """Kind, chart and layer: what stays when a release is renamed (its values are compared too).
    A Flux ``chartRef`` names an OCIRepository, which rail names after the release: the chart
    is the last part of that repository's URL."""
    identity = _release_identity(obj)
    if identity is None:
        return None
    chart = identity[2]
    spec = obj.data.get("spec")
    reference = spec.get("chartRef") if isinstance(spec, dict) else None
    if isinstance(reference, dict) and reference.get("kind") == "OCIRepository":
        namespace = reference.get("namespace") or obj.namespace
        source = side.get(("source.toolkit.fluxcd.io", "OCIRepository", str(namespace), str(reference.get("name"))))
        url = (source.data.get("spec") or {}).get("url") if source is not None else None
        chart = url.rstrip("/").rsplit("/", 1)[-1] if isinstance(url, str) else chart
    return (identity[0], chart, obj.layer or "")


def _release_values(obj: DiffObject) -> Any:
    spec = obj.data.get("spec")
    if not isinstance(spec, dict):
        return None
    if isinstance(spec.get("source"), dict):  # Argo CD Application
        helm = spec["source"].get("helm")
        return helm.get("valuesObject") if isinstance(helm, dict) else None
    return spec.get("values")


def _renames(
    base: dict[ObjectKey, DiffObject],
    head: dict[ObjectKey, DiffObject],
    removed: list[ObjectKey],
    added: list[ObjectKey],
) -> dict[ObjectKey, ObjectKey]:
    """Removed release -> added release that is the same one renamed: same kind, chart, layer
    and values, and the only such pair (two look-alikes are left as a removal and an addition:
    guessing which is which could pass a data loss off as a rename)."""
    gone: dict[tuple[str, str, str], list[ObjectKey]] = {}
    new: dict[tuple[str, str, str], list[ObjectKey]] = {}
    for keys, side, groups in ((removed, base, gone), (added, head, new)):
        for key in keys:
            identity = _rename_identity(side[key], side)
            if identity is not None:
                groups.setdefault(identity, []).append(key)
    pairs: dict[ObjectKey, ObjectKey] = {}
    for identity, old_keys in gone.items():
        for old_key in old_keys:
            values = _release_values(base[old_key])
            twins = [key for key in old_keys if _same(_release_values(base[key]), values)]
            matches = [key for key in new.get(identity, ()) if _same(_release_values(head[key]), values)]
            if len(matches) == 1 and len(twins) == 1:
                pairs[old_key] = matches[0]
    return pairs


def compare(base: dict[ObjectKey, DiffObject], head: dict[ObjectKey, DiffObject]) -> DiffResult:
    result = DiffResult()
    removed = [key for key in base if key not in head]
    added = [key for key in head if key not in base]
    for key in sorted(set(base) & set(head)):
        if base[key].data is head[key].data or _same_text(base[key], head[key]):
            # One object for both sides (rail diff rendered it once: renderer.render.target), or
            # one text (a side kept from an earlier run: renderer.diff.snapshot).
            result.unchanged += 1
            continue
        old_clean, old_noise = _strip_noise(base[key].data)
        new_clean, new_noise = _strip_noise(head[key].data)
        result.noise_hidden += sum(1 for k in set(old_noise) | set(new_noise) if old_noise.get(k) != new_noise.get(k))
        if _same(old_clean, new_clean):
            result.unchanged += 1
            continue
        result.changes.append(ObjectChange(MODIFIED, key, base[key], head[key], field_changes(base[key], head[key])))
    # A removed and an added release of the same kind, name and chart: one move.
    added_by_identity: dict[tuple[str, str, str], list[ObjectKey]] = {}
    for key in added:
        identity = _release_identity(head[key])
        if identity:
            added_by_identity.setdefault(identity, []).append(key)
    still_removed: list[ObjectKey] = []
    for key in sorted(removed):
        identity = _release_identity(base[key])
        candidates = added_by_identity.get(identity, []) if identity else []
        if candidates:
            target = candidates.pop(0)
            added.remove(target)
            fields = field_changes(base[key], head[target])
            result.changes.append(ObjectChange(MOVED, target, base[key], head[target], fields))
        else:
            still_removed.append(key)
    # A removed and an added release of the same kind, chart, layer and values: one rename.
    renames = _renames(base, head, still_removed, added)
    for key in still_removed:
        renamed = renames.get(key)
        if renamed is not None:
            added.remove(renamed)
            fields = field_changes(base[key], head[renamed])
            result.changes.append(ObjectChange(RENAMED, renamed, base[key], head[renamed], fields))
        else:
            result.changes.append(ObjectChange(REMOVED, key, base[key], None))
    for key in sorted(added):
        result.changes.append(ObjectChange(ADDED, key, None, head[key]))
    result.changes.sort(key=lambda change: (change.layer or "~", change.key))
    return result


def field_changes(old: DiffObject, new: DiffObject) -> tuple[FieldChange, ...]:
    """Leaf by leaf: a map that gained keys shows each new key, not the old map as ``{}``
    against the new one whole, so each leaf is redacted on its own and nothing else hides."""
    old_data, _ = _strip_noise(old.data)
    new_data, _ = _strip_noise(new.data)
    old_keyed, new_keyed = _keyed(old_data), _keyed(new_data)
    # deepdiff only sees what differs: a 300-line values block with one changed tag
    # costs it milliseconds, the changed leaf alone microseconds. Same reports.
    old_part, new_part = _differing(old_keyed, new_keyed)
    leaves = _mapping_leaves(old_part, new_part)
    if leaves is None:
        leaves = _deepdiff_leaves(old_part, new_part)
    secret_object = old.kind == "Secret" or new.kind == "Secret"
    changes = []
    for parts, (before, after) in leaves.items():
        path = _format_path(list(parts))
        old_secret = _must_redact(parts, before, old_keyed, secret_object)
        new_secret = _must_redact(parts, after, new_keyed, secret_object)
        changes.append(
            FieldChange(
                path=path,
                old=_shown(before, old_secret, f"{old.key}|{path}"),
                new=_shown(after, new_secret, f"{new.key}|{path}"),
                redacted=old_secret or new_secret,
            )
        )
    return tuple(sorted(changes, key=lambda change: change.path))


Leaves = dict[tuple[Any, ...], tuple[Any, Any]]
# deepdiff's threshold_to_diff_deeper: two maps sharing fewer of their keys than this are
# reported as one changed value, not key by key (tests hold the walk below to deepdiff's).
_DEEPER_AT = 0.33


def _deepdiff_leaves(old_part: Any, new_part: Any) -> Leaves:
    """The differing leaves as deepdiff reports them: it decides how two lists line up."""
    from deepdiff import DeepDiff

    diff = DeepDiff(old_part, new_part, view="tree", verbose_level=2)
    leaves: Leaves = {}
    for report in diff.values():
        for level in report:
            parts = tuple(level.path(output_format="list"))
            before = _MISSING if _absent(level.t1) else level.t1
            after = _MISSING if _absent(level.t2) else level.t2
            for sub, pair in _leaf_pairs(before, after):
                leaves[(*parts, *sub)] = pair
    return leaves


def _mapping_leaves(old: Any, new: Any) -> Leaves | None:
    """The same leaves as :func:`_deepdiff_leaves` where no list stands against a list: a
    map's keys are compared one by one (unless the two share few keys), a key on one side
    only is reported whole, anything else that is not the same is reported as it is
    (deepdiff's values and type changes).
    None where two lists meet (how they line up is deepdiff's: difflib or pair by pair), or
    where a map compared has a key that is no string.
    Most changes (a tag, a replica count, a key added) never meet a list: deepdiff, and
    the quarter second its import costs a pre-commit hook, is then not needed."""
    leaves: Leaves = {}
    pending: list[tuple[tuple[Any, ...], Any, Any]] = [((), old, new)]
    while pending:
        parts, before, after = pending.pop()
        if isinstance(before, dict) and isinstance(after, dict):
            if not all(isinstance(key, str) for key in (*before, *after)):
                return None  # deepdiff reports a map with other keys its own way
            union = len(before.keys() | after.keys())
            if union > 1 and len(before.keys() & after.keys()) / union < _DEEPER_AT:
                _report(leaves, parts, before, after)  # mostly other keys: one change of the whole map
                continue
            for key, value in before.items():
                if key not in after:
                    _report(leaves, (*parts, key), value, _MISSING)
                else:
                    pending.append(((*parts, key), value, after[key]))
            for key, value in after.items():
                if key not in before:
                    _report(leaves, (*parts, key), _MISSING, value)
        elif isinstance(before, list) and isinstance(after, list):
            if not _same(before, after):
                return None
        elif not _same(before, after):
            _report(leaves, parts, before, after)
    return leaves


def _report(leaves: Leaves, parts: tuple[Any, ...], before: Any, after: Any) -> None:
    for sub, pair in _leaf_pairs(before, after):
        leaves[(*parts, *sub)] = pair


class _Missing:
    """A side where the field does not exist (distinct from an explicit null)."""

    def __repr__(self) -> str:
        return "(absent)"


_MISSING: Any = _Missing()


def _leaf_pairs(before: Any, after: Any) -> list[tuple[tuple[Any, ...], tuple[Any, Any]]]:
    """The (sub-path, (old, new)) leaves that differ below one reported change."""
    old_leaves, new_leaves = _flatten(before), _flatten(after)
    # `{}` becoming a filled map is the map's keys added, not a change of the map itself.
    if old_leaves.get(()) in ({}, []) and len(old_leaves) == 1 and new_leaves and () not in new_leaves:
        old_leaves = {}
    if new_leaves.get(()) in ({}, []) and len(new_leaves) == 1 and old_leaves and () not in old_leaves:
        new_leaves = {}
    pairs = []
    for sub in sorted(old_leaves.keys() | new_leaves.keys(), key=lambda parts: _format_path(list(parts))):
        one, two = old_leaves.get(sub, _MISSING), new_leaves.get(sub, _MISSING)
        if not _same(one, two):
            pairs.append((sub, (one, two)))
    return pairs


def _flatten(value: Any) -> dict[tuple[Any, ...], Any]:
    if value is _MISSING:
        return {}
    if isinstance(value, dict) and value:
        return {(key, *sub): leaf for key, item in value.items() for sub, leaf in _flatten(item).items()}
    if isinstance(value, list) and value:
        return {(index, *sub): leaf for index, item in enumerate(value) for sub, leaf in _flatten(item).items()}
    return {(): value}


def _shown(value: Any, redact: bool, salt: str) -> Any:
    if value is _MISSING:
        return None
    return redacted(value, salt) if redact else value


def _absent(value: Any) -> bool:
    return type(value).__name__ == "NotPresent"


def _format_path(parts: list[Any]) -> str:
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif isinstance(part, str) and part.startswith("[name="):
            text += part
        else:
            text += f".{part}" if text else str(part)
    return text


def _must_redact(parts: tuple[Any, ...], value: Any, side: Any, secret_object: bool) -> bool:
    """Secret values never reach a diff: a Secret's data, a value the classifier calls secret
    (by its key, its siblings or its shape), anything below a secret-looking key but a
    reference, any ENC[...]. Each side on its own: `${DB_PASSWORD}` replaced by a literal
    still shows the reference it was."""
    if value is _MISSING:
        return False
    if secret_object and (not parts or parts[0] in ("data", "stringData", "sops")):
        return True
    if isinstance(value, str) and value.startswith("ENC["):
        return True
    siblings = _lookup(side, parts[:-1])
    keys = tuple(_plain_key(part) for part in parts)
    verdict = classify(keys, value, siblings if isinstance(siblings, dict) else None)
    if verdict.is_secret or (isinstance(value, str) and "\n" in value and contains_secret(value, keys)):
        return True  # a leaf, or a string holding YAML with one inside (`values.yaml: |`)
    # Below a secret-looking key (`passwords: [a, b]`, `credentials: {...}`) only a
    # reference (a secretKeyRef, `${VAR}`) is shown. A keyed list item (`[name=DB_PASSWORD]`)
    # is judged by its siblings above, not here.
    below_secret = any(is_secret_key(part) for part in parts[:-1] if not str(part).startswith("[name="))
    return below_secret and verdict.kind != REFERENCE


def _plain_key(part: Any) -> Any:
    """``[name=DB_PASSWORD]`` (a keyed list item) is looked at as its name."""
    if isinstance(part, str) and part.startswith("[name=") and part.endswith("]"):
        return part[6:-1]
    return part


def _lookup(data: Any, parts: tuple[Any, ...]) -> Any:
    for part in parts:
        in_list = isinstance(data, list) and isinstance(part, int) and 0 <= part < len(data)
        if in_list or (isinstance(data, dict) and part in data):
            data = data[part]
        else:
            return None
    return data
