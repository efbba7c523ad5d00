"""Reading a revision's files from git objects: never a checkout, never a chdir.

A side is a revision (any ``git rev-parse`` name), the index (``--staged``) or the
working tree, whose files are listed (the diff links them) rather than read. Files
are read below the stack's folder only, as bytes.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from ..errors import InputError, Problem
from ..load.files import escape_problem, escaping_link

WORKTREE = ":worktree"
INDEX = ":index"
LINK_MODE = "120000"
MAX_HOPS = 40  # as the system's own limit on links followed in one path
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")  # SHA-1 and SHA-256 repositories


@dataclass(frozen=True)
class IndexEntry:
    mode: str  # 100644, 100755, 120000 (a symlink), 160000 (a submodule)
    blob: str  # the object id (a submodule's: a commit)
    stage: int  # 0, or 1-3 for a path with a merge conflict
    path: str  # in the repository
    # ``git ls-files -v``'s tag: "H" for an entry git checks against the working tree by
    # its stat data; "h" (assume-unchanged), "S"/"s" (skip-worktree), "M" (unmerged) for
    # one it does not, whose working-tree file :meth:`Repository.stat_dirty` never lists.
    tag: str = "H"


@dataclass(frozen=True)
class Repository:
    top: Path  # the work tree's top folder
    prefix: str  # the stack's folder inside it ("" or "stacks/prod/")
    # What git said once, by question (an object id's commit, the git folder): what cannot
    # change while rail runs. A hook run asks the same again and again, each a git process.
    _answers: dict[tuple[str, ...], Any] = field(default_factory=dict, init=False, compare=False, repr=False)
    # Git commands started ahead (:meth:`ask_ahead`), by their arguments: each process and
    # the unnamed files its output and errors go to, until :meth:`run` takes its answer.
    _ahead: dict[tuple[str, ...], tuple[subprocess.Popen[bytes], IO[bytes], IO[bytes]]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )

    @classmethod
    def of(cls, stack_root: Path) -> Repository:
        # The git folder asked in the same process (a hook run asks it later: one git fewer).
        done = _git(stack_root, "rev-parse", "--show-toplevel", "--absolute-git-dir", what="find the git repository")
        lines = done.decode().splitlines()
        top = Path(lines[0].strip())
        relative = stack_root.resolve().relative_to(top.resolve()).as_posix()
        repository = cls(top=top, prefix="" if relative == "." else relative + "/")
        if len(lines) == 2 and lines[1].strip():
            repository._answers[("git-dir",)] = Path(lines[1].strip())
        return repository

    def files(self, side: str) -> dict[str, bytes]:
        """Every file of ``side`` below the stack folder, by path relative to it."""
        return self.tree(side)[0]

    def tree(self, side: str) -> tuple[dict[str, bytes], list[Problem]]:
        """Every file of ``side`` below the stack folder, by path relative to it, with its
        symlinks (mode 120000: the blob is the target) as the working tree has them: a link
        inside the stack holds its target's bytes; one leaving it is left out and returned
        as a problem naming it and where it points."""
        if side == WORKTREE:
            raise ValueError("the working tree is linked, not read: see worktree_files")
        blobs, links = self._listing(side)
        read = self.read_blobs({**blobs, **links})
        files = {self.relative(path): read[self.relative(path)] for path in blobs}
        targets = {self.relative(path): read[self.relative(path)].decode(errors="replace") for path in links}
        return followed(files, targets, self.top / self.prefix)

    def _listing(self, side: str) -> tuple[dict[str, str], dict[str, str]]:
        """The blob ids of ``side``'s files below the stack folder, and of its symlinks, by
        path in the repository."""
        blobs: dict[str, str] = {}
        links: dict[str, str] = {}
        if side == INDEX:
            for indexed in self.index_entries():
                (links if indexed.mode == LINK_MODE else blobs)[indexed.path] = indexed.blob
        else:
            commit = self.resolve(side)
            listing = _git(
                self.top, "ls-tree", "-r", "-z", "--full-tree", commit, "--", self.prefix or ".", what=f"list {side}"
            )
            for entry in listing.split(b"\0"):
                if entry:
                    meta, _, path = entry.partition(b"\t")
                    mode, kind, sha = meta.decode().split()
                    if kind == "blob":
                        (links if mode == LINK_MODE else blobs)[path.decode()] = sha
        return blobs, links

    def index_listing(self) -> tuple[str, ...]:
        """The git command :meth:`index_entries` reads (to ask it ahead)."""
        return ("ls-files", "-z", "-s", "-v", "--", self.prefix or ".")

    def staged_listing(self, commit: str) -> tuple[str, ...]:
        """The git command :meth:`staged_changes` reads (to ask it ahead)."""
        return ("diff-index", "--cached", "--no-renames", "--name-only", "-z", commit, "--", self.prefix or ".")

    def index_entries(self) -> list[IndexEntry]:
        """The index's entries below the stack folder, as ``git ls-files -s -v`` lists them
        (sorted by path; an unmerged path once per stage), each with its tag."""
        listing = _git(self, *self.index_listing(), what="read the index")
        entries: list[IndexEntry] = []
        for raw in listing.decode().split("\0"):  # decoded at once: thousands of entries
            if raw:
                meta, _, path = raw.partition("\t")
                tag, mode, blob, stage = meta.split()
                entries.append(IndexEntry(mode, blob, int(stage), path, tag))
        return entries

    def staged_changes(self, commit: str) -> set[str]:
        """The paths below the stack folder (relative to it) whose index entry differs from
        ``commit``'s tree: added, removed, or changed in content or mode (``git diff-index
        --cached``: the index against the tree, the working tree never looked at)."""
        listing = _git(self, *self.staged_listing(commit), what="compare the index with the base")
        return {self.relative(raw.decode()) for raw in listing.split(b"\0") if raw}

    def stat_dirty(self) -> set[str]:
        """The paths below the stack folder (in the repository) whose working-tree file git
        cannot vouch for, from the stat data its index keeps, as holding the entry's bytes:
        ``git diff-files`` lists a file whose stat data differs (as ``core.trustctime``,
        ``core.checkStat`` and ``core.fileMode`` say), one deleted or no longer a regular
        file, an intent-to-add entry, and a "racy" one (changed in the second the index was
        written: git compares its bytes, or calls it changed).

        Read only: ``diff-files`` never writes the index (``update-index --refresh`` and
        ``status`` do, which must not happen in a pre-commit hook). With fsmonitor off, git
        stats every file itself rather than taking a daemon's word. Entries git never
        checks (:attr:`IndexEntry.tag` other than "H") are not listed."""
        listing = _git(
            self.top,
            "-c",
            "core.fsmonitor=",  # empty: off for any git (before 2.36 it names a hook; since, false)
            "diff-files",
            "-z",
            "--name-only",
            "--",
            self.prefix or ".",
            what="compare the index with the working tree",
        )
        return {raw.decode() for raw in listing.split(b"\0") if raw}

    def ask_ahead(self, *commands: tuple[str, ...]) -> None:
        """Start each git command now, its answer taken when :meth:`run` asks the same: git
        works on one processor while rail restores a side on another (a pre-commit hook's
        questions of its index, ~20 ms one after another). Each writes to an unnamed file,
        not a pipe, so a long answer never waits for its reader. One that cannot start is
        simply asked later. Those never asked for are ended by :meth:`drop_ahead`."""
        for args in commands:
            if args in self._ahead:
                continue
            with ExitStack() as opened:
                try:
                    out = opened.enter_context(tempfile.TemporaryFile())
                    err = opened.enter_context(tempfile.TemporaryFile())
                    process = subprocess.Popen(["git", *args], cwd=self.top, stdout=out, stderr=err)
                except OSError:
                    continue
                opened.pop_all()  # held until the answer is taken (run) or dropped (drop_ahead)
                self._ahead[args] = (process, out, err)

    def run(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        """``git args`` in the working tree's top folder: its answer if it was asked ahead."""
        started = self._ahead.pop(args, None)
        if started is None:
            return subprocess.run(["git", *args], cwd=self.top, capture_output=True, check=False)
        process, out, err = started
        with out, err:
            code = process.wait()
            out.seek(0)
            err.seek(0)
            return subprocess.CompletedProcess(process.args, code, out.read(), err.read())

    def drop_ahead(self) -> None:
        """End the commands asked ahead and never asked for (a run that took another way)."""
        while self._ahead:
            _, (process, out, err) = self._ahead.popitem()
            with out, err:
                process.kill()
                process.wait()

    def git_dir(self) -> Path | None:
        """The repository's git folder (on the working tree's file system, as a rule)."""
        if ("git-dir",) not in self._answers:
            done = subprocess.run(
                ["git", "rev-parse", "--absolute-git-dir"], cwd=self.top, capture_output=True, check=False
            )
            self._answers[("git-dir",)] = Path(done.stdout.decode().strip()) if done.returncode == 0 else None
        answer: Path | None = self._answers[("git-dir",)]
        return answer

    def resolve(self, revision: str) -> str:
        commit = self._commit(revision)
        if commit is not None:
            return commit
        if revision == "HEAD" and self._unborn():
            # The first commit of a repository (pre-commit's staged diff): the base is empty, as for git.
            empty = subprocess.run(
                ["git", "hash-object", "-t", "tree", "--stdin"],
                cwd=self.top,
                input=b"",
                capture_output=True,
                check=True,
            )
            return empty.stdout.decode().strip()
        raise InputError(
            Problem(
                path=str(self.top),
                message=f"unknown git revision '{revision}'",
                hint=_unknown_hint(revision, self.shallow()),
            )
        )

    def merge_base(self, base: str, head: str) -> str:
        """The commit a pull request from ``head`` into ``base`` is compared with: their
        best common ancestor. Both are commits (already resolved). A shallow clone that
        lacks it, or two unrelated histories, is an input error saying what to do."""
        if base == head:
            return base  # a commit is its own best common ancestor (a hook's HEAD against HEAD)
        done = subprocess.run(["git", "merge-base", base, head], cwd=self.top, capture_output=True, check=False)
        found = done.stdout.decode().strip().splitlines()
        if done.returncode == 0 and found:
            return found[0]
        if self.shallow():
            hint = (
                "this is a shallow clone: fetch the full history (`git fetch --unshallow`;"
                " actions/checkout: fetch-depth: 0), or pass --base-tip to compare with the base's tip"
            )
        else:
            hint = "the two revisions share no history: pass --base-tip to compare with the base's tip"
        raise InputError(
            Problem(path=str(self.top), message=f"no merge base of {base[:12]} and {head[:12]}", hint=hint)
        )

    def shallow(self) -> bool:
        return _git(self.top, "rev-parse", "--is-shallow-repository", what="inspect the clone").strip() == b"true"

    def is_commit(self, sha: str) -> bool:
        """``sha`` (from :meth:`resolve`) is a commit, not the empty tree of an unborn HEAD."""
        return self._commit(sha) is not None

    def _commit(self, revision: str) -> str | None:
        """The commit ``revision`` names, or None. Git reads a word starting with ``-`` as
        an option, never a revision (a ref named so is spelt ``refs/heads/-x``): such a
        word is not passed to git at all."""
        if revision.startswith("-"):
            return None
        question = ("commit", revision)
        if question not in self._answers or not _OBJECT_ID.fullmatch(revision):  # only an id names one commit for good
            done = subprocess.run(
                ["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                cwd=self.top,
                capture_output=True,
                check=False,
            )
            found = done.stdout.decode().strip() if done.returncode == 0 else None
            self._answers[question] = found
            if found is not None and _OBJECT_ID.fullmatch(found):
                self._answers[("commit", found)] = found  # a commit is its own: is_commit asks no git

        commit: str | None = self._answers[question]
        return commit

    def _unborn(self) -> bool:
        """HEAD names a branch that has no commit yet (a new repository, an orphan branch)."""
        branch = subprocess.run(["git", "symbolic-ref", "-q", "HEAD"], cwd=self.top, capture_output=True, check=False)
        if branch.returncode != 0:
            return False
        ref = branch.stdout.decode().strip()
        exists = subprocess.run(
            ["git", "show-ref", "--verify", "-q", ref], cwd=self.top, capture_output=True, check=False
        )
        return exists.returncode != 0

    def worktree_files(self) -> tuple[list[str], list[Problem]]:
        """The working tree's files below the stack folder, as git sees them: tracked or
        untracked, never ignored (a PR cannot hold an ignored file). A symlink inside the
        stack is listed (linking it links its target); one leaving it is a problem."""
        listing = _git(
            self.top,
            "ls-files",
            "-z",
            "--cached",
            "--others",
            "--exclude-standard",
            "--",
            self.prefix or ".",
            what="list the working tree",
        )
        stack = self.top / self.prefix
        files: list[str] = []
        escaped: list[Problem] = []
        for raw in sorted(set(listing.split(b"\0"))):
            if not raw:
                continue
            path = raw.decode()
            full = self.top / path
            relative = self.relative(path)
            if full.is_symlink():
                target = escaping_link(stack, full)
                if target is not None:
                    escaped.append(escape_problem(relative, target))
                elif full.is_dir():
                    inner = sorted(p for p in full.rglob("*") if p.is_file() and not p.is_symlink())
                    files.extend(f"{relative}/{p.relative_to(full).as_posix()}" for p in inner)
                elif full.is_file():
                    files.append(relative)
            elif full.is_file():
                files.append(relative)
        return files, escaped

    def read_blobs(self, blobs: dict[str, str]) -> dict[str, bytes]:
        """The bytes of ``blobs`` (path in the repository -> blob id), by path relative to
        the stack folder; an input error if git lacks one."""
        names = sorted(blobs)
        read = self._batch([blobs[name] for name in names])
        files: dict[str, bytes] = {}
        for name, content in zip(names, read, strict=True):
            if content is None:
                raise InputError(
                    Problem(path=str(self.top), message="git cat-file failed", hint="is the repository intact?")
                )
            files[self.relative(name)] = content
        return files

    def read_paths(self, side: str, paths: list[str]) -> dict[str, bytes] | None:
        """The bytes of ``paths`` (relative to the stack folder) in ``side`` (a commit or
        :data:`INDEX`) as git stores them, or None if any is missing or is a symlink."""
        if side == WORKTREE:
            raise ValueError("the working tree is linked, not read: see worktree_files")
        blobs, _ = self._listing(side)
        ids = [blobs.get(self.prefix + path) for path in paths]
        if any(sha is None for sha in ids):
            return None
        read = self._batch([sha for sha in ids if sha is not None])
        if any(content is None for content in read):
            return None
        return {path: content for path, content in zip(paths, read, strict=True) if content is not None}

    def _batch(self, names: list[str]) -> list[bytes | None]:
        """``git cat-file --batch`` of ``names`` (blob ids or ``rev:path``): each one's bytes,
        None for one git does not have (or that is not a blob).

        Read one object at a time from the pipe: git's whole output held at once beside
        the bytes cut from it would double a tree's size at the peak (~150 MB more at
        10,000 releases, read while the other side is alive). The request goes in from a
        file, so git never waits on a full pipe that this process is not reading yet."""
        if not names:
            return []
        with tempfile.TemporaryFile() as request:
            request.write("".join(f"{name}\n" for name in names).encode())
            request.seek(0)
            with subprocess.Popen(
                ["git", "cat-file", "--batch"],
                cwd=self.top,
                stdin=request,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            ) as process:
                assert process.stdout is not None  # stdout=PIPE
                read = _objects(process.stdout, len(names))
                process.stdout.read()  # what a torn answer left: git exits once it is written
        if read is None or process.returncode != 0:
            raise InputError(
                Problem(path=str(self.top), message="git cat-file failed", hint="is the repository intact?")
            )
        return read

    def relative(self, path: str) -> str:
        """A path in the repository as a path relative to the stack folder."""
        return path[len(self.prefix) :] if self.prefix and path.startswith(self.prefix) else path


def _objects(answer: IO[bytes], count: int) -> list[bytes | None] | None:
    """``count`` answers of ``git cat-file --batch``: each blob's bytes, None for a name
    git does not have or that is no blob; None if the answer is torn."""
    read: list[bytes | None] = []
    for _ in range(count):
        header = answer.readline().split()
        if not header:
            return None
        if header[-1] == b"missing" or header[-1] == b"ambiguous":
            read.append(None)
            continue
        size = int(header[2])
        content = answer.read(size)
        if len(content) != size or answer.read(1) != b"\n":
            return None
        read.append(content if header[1] == b"blob" else None)
    return read


def _unknown_hint(revision: str, shallow: bool) -> str:
    """What to run next about a revision git does not know: a command safe to paste, where
    the revision is one quoted word that git cannot read as an option (``--base
    '--output=x'`` must not become ``git log --output=x``, which writes a file)."""
    words = shlex.join(["--end-of-options", revision] if revision.startswith("-") else [revision])
    if shallow:
        return (
            "this is a shallow clone: fetch the base first, e.g."
            f" `git fetch --deepen=100 origin` or `git fetch origin {words}` (actions/checkout: fetch-depth: 0)"
        )
    return f"check the name with `git log --oneline {words} --`"


def _git(cwd: Path | Repository, *args: str, what: str) -> bytes:
    """``git args``' output (in ``cwd``, or a repository's top folder, where an answer
    asked ahead is taken); an input error saying what could not be done."""
    path = cwd.top if isinstance(cwd, Repository) else cwd
    try:
        if isinstance(cwd, Repository):
            done = cwd.run(*args)
        else:
            done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False)
    except FileNotFoundError:
        raise InputError(Problem(path=str(path), message="git is not installed", hint="install git")) from None
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()[-1:] or ["git failed"]
        raise InputError(
            Problem(path=str(path), message=f"cannot {what}: {reason[0]}", hint="run rail diff inside a git repository")
        )
    return done.stdout


def followed(files: dict[str, bytes], targets: dict[str, str], stack: Path) -> tuple[dict[str, bytes], list[Problem]]:
    """``files`` with each link of ``targets`` (path -> link text) resolved within the
    side itself, as the file system would: a link to a file holds its bytes, a link to a
    folder its files; a dangling link is left out (not found, as on disk); one whose
    target leaves the stack (``..`` past it, or an absolute path elsewhere) is refused.
    Resolution is by the link texts alone: nothing outside the side is looked at."""
    escaped: list[Problem] = []
    for link, text in sorted(targets.items()):
        resolved = _resolve_link(link, targets, stack)
        if resolved is None:
            escaped.append(escape_problem(link, text))
        elif resolved in files:
            files[link] = files[resolved]
        else:
            inner = {path: content for path, content in files.items() if path.startswith(resolved + "/")}
            for path, content in inner.items():
                files[link + path[len(resolved) :]] = content
    return files, escaped


def _resolve_link(link: str, targets: dict[str, str], stack: Path) -> str | None:
    """The stack-relative path ``link`` ends at, or None if it leaves the stack (or loops)."""
    current = link
    for _ in range(MAX_HOPS):
        text = targets[current]
        if text.startswith("/"):
            try:
                joined = Path(text).relative_to(stack.resolve()).as_posix()
            except ValueError:
                return None
        else:
            joined = posixpath.normpath(posixpath.join(posixpath.dirname(current), text))
        if joined == ".." or joined.startswith("../") or joined in ("", "."):
            return None
        if joined not in targets:
            return joined
        current = joined
    return None


@dataclass(frozen=True)
class Compared:
    """What a diff compares, as a pull request shows it.

    ``base``/``head`` are what :meth:`Repository.files` reads (a commit, ``HEAD`` of an
    unborn branch, :data:`WORKTREE` or :data:`INDEX`); the commits are full shas, None
    for the working tree, the index and an empty base.
    """

    base: str
    head: str
    base_label: str
    head_label: str
    base_commit: str | None
    head_commit: str | None
    merge_base: bool


def compared(repository: Repository, base: str, head: str | None, staged: bool, base_tip: bool) -> Compared:
    """``--base`` and ``--head`` as git reads them: ``A...B`` is the merge base of A and
    B against B, ``A..B`` is A against B; a plain ``--base`` is the merge base of it and
    the head (HEAD for the working tree and the index) unless ``base_tip``."""
    if ".." in base:
        three = "..." in base
        left, _, right = base.partition("..." if three else "..")
        left, right = left or "HEAD", right or "HEAD"  # git's reading of an empty end
        with naming_side(f"head ({right})"):
            head_commit = repository.resolve(right)
        with naming_side(f"base '{left}'"):
            left_commit = repository.resolve(left)
        left_born, right_born = repository.is_commit(left_commit), repository.is_commit(head_commit)
        with naming_side(f"base '{base}'"):
            both = three and left_born and right_born
            base_commit = repository.merge_base(left_commit, head_commit) if both else left_commit
        return Compared(
            base=base_commit if left_born else left,
            head=head_commit if right_born else right,
            base_label=left,
            head_label=right,
            base_commit=base_commit if left_born else None,
            head_commit=head_commit if right_born else None,
            merge_base=three and left_born and right_born,
        )
    head_ref = head or "HEAD"
    with naming_side(f"head ({head or 'the working tree'})"):
        head_of = repository.resolve(head_ref)
    head_born = repository.is_commit(head_of)
    with naming_side(f"base '{base}'"):
        base_of = repository.resolve(base)
        base_born = repository.is_commit(base_of)
        use_merge_base = not base_tip and base_born and head_born
        base_commit = repository.merge_base(base_of, head_of) if use_merge_base else base_of
    if head is not None:
        head_side, head_label = (head_of if head_born else head), head
    else:
        head_side = INDEX if staged else WORKTREE
        where = "the index" if staged else "the working tree"
        head_label = f"{where} on {head_of[:12]}" if head_born else f"{where} (no commit yet)"
    return Compared(
        base=base_commit if base_born else base,
        head=head_side,
        base_label=base,
        head_label=head_label,
        base_commit=base_commit if base_born else None,
        head_commit=head_of if head is not None and head_born else None,
        merge_base=use_merge_base,
    )


@contextmanager
def naming_side(label: str) -> Iterator[None]:
    """Input errors inside name the side they are about (an unknown base is not an unknown head)."""
    try:
        yield
    except InputError as error:
        raise InputError(
            [replace(problem, message=f"{label}: {problem.message}") for problem in error.problems]
        ) from None
