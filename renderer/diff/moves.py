"""Moves between repositories: a release that left this stack for another one is one
change, not a deletion here and an unrelated addition there.

The head's ``moved:`` records say where each release went; a record that also says
where that stack is (``path``, or ``git`` and ``ref``, as an import does) lets the diff
read the destination's committed output (never its specs: rail renders nothing of it)
and pair each removed object of the release with the destination's object of the same
kind and name. Such a pair is a ``moved`` change whose new side lives in the other
stack, so the data-event rules judge it as they judge a move inside one stack. A removed
object with no counterpart there stays a removal, and the diff notes why.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError
from ..lint.finding import Location
from ..lint.manifests import parse
from ..load import CONFIG_NAME
from ..load.imports import output_folder, stack_files
from ..model.interface import Moved
from ..yamlio import Document, load_document
from .compare import MOVED, REMOVED, DiffResult, ObjectChange, field_changes
from .sides import DiffObject, Side, objects_of


@dataclass(frozen=True)
class Destination:
    """A moved release's objects in the stack it moved to, and how to name that stack."""

    record: Moved
    where: str  # the destination's folder, as the record names it ("../apps/")
    objects: tuple[DiffObject, ...]


def config_document(root: Path) -> Document | None:
    """A side's rail.yaml, read while its folder exists (None: no stack config)."""
    path = root / CONFIG_NAME
    return load_document(path.read_text(encoding="utf-8"), CONFIG_NAME) if path.is_file() else None


def cross_stack(
    result: DiffResult, base: Side, head: Side, config: Document | None, stack_root: Path
) -> tuple[DiffResult, list[str]]:
    """``result`` with each removed object of a moved release paired with its object in the
    destination stack, and notes on what could not be paired (never file content).
    ``config``: the head's rail.yaml, which holds the records."""
    loaded = head.loaded
    if loaded is None or not loaded.moved or base.loaded is None or config is None:
        return result, []
    origins = {release.name: release.origin for release in base.loaded.stack.releases}
    removed = [change for change in result.changes if change.change == REMOVED and change.old is not None]
    notes: list[str] = []
    pairs: dict[int, ObjectChange] = {}
    for index, record in enumerate(loaded.moved):
        origin = origins.get(record.release)
        gone = [change for change in removed if change.old is not None and _of(change.old, record.release, origin)]
        if not gone:
            continue  # moved before the base: nothing of it changes here
        if not record.location:
            notes.append(
                f"release '{record.release}' is recorded as moved to {record.to}, but the record does not say where"
                " that stack is (path:, or git: and ref:): its objects count as removed"
            )
            continue
        try:
            destination = _destination(stack_root, config, _record_index(config, record, index), record, head)
        except InputError as error:
            problem = error.problems[0]
            notes.append(f"cannot read where '{record.release}' moved: {problem.message}: its objects count as removed")
            continue
        line, _ = config.locate(("moved", _record_index(config, record, index)))
        at = Location(CONFIG_NAME, line)
        unpaired = 0
        for change in gone:
            assert change.old is not None
            twin = _twin(change.old, record, destination.objects)
            if twin is None:
                unpaired += 1
                continue
            moved = replace(twin, stack=record.to, moved_at=at)
            pairs[id(change)] = ObjectChange(MOVED, moved.key, change.old, moved, field_changes(change.old, moved))
        if unpaired:
            notes.append(
                f"release '{record.release}' is recorded as moved to {record.to}, but {destination.where} renders"
                f" no counterpart of {unpaired} of its objects: those count as removed"
            )
    if not pairs:
        return result, notes
    changes = [pairs.get(id(change), change) for change in result.changes]
    changes.sort(key=lambda change: (change.layer or "~", change.key))
    return DiffResult(changes=changes, noise_hidden=result.noise_hidden, unchanged=result.unchanged), notes


def _of(obj: DiffObject, release: str, origin: str | None) -> bool:
    """The object was rendered from the release's spec (or, without one, is named for it)."""
    if origin is not None and obj.origin is not None:
        return obj.origin == origin
    return obj.name == release


def _record_index(config: Document, record: Moved, fallback: int) -> int:
    """The record's place in rail.yaml (the loaded records are sorted by release)."""
    items = config.data.get("moved") if isinstance(config.data, dict) else None
    for index, item in enumerate(items or []):
        if isinstance(item, dict) and item.get("release") == record.release:
            return index
    return fallback


def _destination(stack_root: Path, config: Document, index: int, record: Moved, head: Side) -> Destination:
    item = dict(record.location)
    key, name = ("moved", index), f"moved release '{record.release}'"
    files = stack_files(stack_root, config, key, name, item)
    output = output_folder(files.read, files.where, config, key, name)
    manifests = []
    for relative in files.listing(output):
        # rail names each rendered file for its object (helmrelease-gitea.yaml,
        # application-gitea.yaml): files not named for the release are not read.
        if record.new_name not in relative.rsplit("/", 1)[-1] or not relative.endswith((".yaml", ".yml")):
            continue
        text = files.read(relative)
        if text is not None:
            manifests.extend(parse(text, files.where + relative))
    return Destination(record, files.where, tuple(objects_of(manifests, head.config).values()))


def _twin(old: DiffObject, record: Moved, candidates: Iterable[DiffObject]) -> DiffObject | None:
    """The destination's object of the same group and kind, named as the record says
    (the release's name, or a name derived from it, with the new name in its place)."""
    name = old.name
    if name == record.release or name.startswith(record.release + "-"):
        name = record.new_name + name[len(record.release) :]
    found = [obj for obj in candidates if obj.key[:2] == old.key[:2] and obj.name == name]
    return found[0] if len(found) == 1 else None
