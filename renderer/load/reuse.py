"""A load that takes over an earlier load's releases whose files did not change (issue 16).

A pre-commit run reads the index right after restoring its base (a tree seen before):
one release's values changed, and the other 999 releases' spec, values and secret files
are the very blobs the base read. Reading, parsing and validating them again was half
of the head's read. What git says changed between the two trees decides, never a
file's time or size: a release is taken over when none of its files is among the
changed paths, and read as usual otherwise. Everything that looks across releases
(names, references, claims, backups) is worked out again on the whole set.

Taken over means the very objects: a release, its spec document, its values documents
and its secret files are immutable, so the head holds the base's, and every later stage
that keys its work by a document's identity finds it done.

The caller vouches for two things this module cannot see: ``changed`` lists every path
that differs between the earlier load's tree and this one (added, removed, changed in
content or mode), and this tree holds no symlink (a link's target may change while the
link does not). ``rail.yaml`` among the changed paths, imported stacks (read from
outside the tree) or an earlier load that refused a link turn reuse off.
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..memo import cached_property
from ..model import Release
from ..yamlio import Document
from .stack import CONFIG_NAME, LoadedStack, SecretFile


@dataclass(frozen=True)
class Reuse:
    """An earlier load of the same stack and the paths (relative to the stack root) that
    differ since; build it with :meth:`of`."""

    previous: LoadedStack
    changed: frozenset[str]

    @classmethod
    def of(cls, previous: LoadedStack, changed: Iterable[str]) -> Reuse | None:
        """Reuse of ``previous``, or None where none is safe (see the module docstring)."""
        paths = frozenset(changed)
        if CONFIG_NAME in paths or previous.imports or previous.escaped or not previous.lenient:
            return None
        return cls(previous, paths)

    @cached_property
    def by_origin(self) -> Mapping[str, Release]:
        """The earlier load's releases by the spec each was read from."""
        return {release.origin: release for release in self.previous.stack.releases}

    def release(self, origin: str) -> Taken | None:
        """The earlier load's release read from spec ``origin`` with its documents, when
        none of its files changed; else None (read it)."""
        release = self.by_origin.get(origin)
        if release is None:
            return None
        secrets = list(release.secrets)
        if release.needs.database is not None:
            secrets.append(release.needs.database.password_secret)
        if not all(self._unchanged(path) for path in (origin, *release.values_files, *secrets)):
            return None
        previous = self.previous
        try:
            return Taken(
                release,
                previous.spec_documents[origin],
                tuple((path, previous.values_documents[path]) for path in release.values_files),
                tuple((path, previous.secret_files[path]) for path in secrets),
            )
        except KeyError:  # not what a load of that release keeps: read it
            return None

    def _unchanged(self, relative: str) -> bool:
        """Whether git's word covers ``relative`` as written in a spec: a plain relative
        path (``./`` and doubled slashes allowed) not among the changed ones. Anything
        else (absolute, a backslash, ``..``) is read, so loading judges it as usual."""
        if not relative or relative.startswith("/") or "\\" in relative:
            return False
        normal = posixpath.normpath(relative)
        if normal == "." or normal == ".." or normal.startswith("../"):
            return False
        return normal not in self.changed


@dataclass(frozen=True)
class Taken:
    """One release as an earlier load kept it, with its files in the order a load reads them."""

    release: Release
    spec: Document
    values: tuple[tuple[str, Document], ...]
    secrets: tuple[tuple[str, SecretFile], ...]
