"""The ``rail`` command line: click parses, :mod:`renderer.app` does the work."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import click

from . import __version__
from .errors import EXIT_FINDINGS, EXIT_INTERNAL, EXIT_OK, RailError


class _Group(click.Group):
    """Maps the one error root to exit code 2; anything else is a bug."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except RailError as error:
            for problem in error.problems:
                click.echo(problem.format(), err=True)
            ctx.exit(error.exit_code)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except BrokenPipeError:
            # The reader stopped reading (rail explain | head): not rail's error to report.
            import os

            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            ctx.exit(1)
        except Exception as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # The exception text may quote input: print its type only.
            click.echo(
                f"rail: internal error ({type(error).__name__}); rerun with --debug for a traceback and report it",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


def entry() -> None:
    """The ``rail`` command: ``main``, tuned for a process that runs once and ends.

    No cyclic garbage collection: a run allocates millions of objects and leaves almost
    none in cycles (measured with the collector off, then one collection at the end:
    ~800 objects for the shipped stack, ~2,000 at 1,000 releases), yet even a rare
    young collection walks ~200,000 survivors (~0.25 s of a 1,000-release pre-commit
    hook with mypy's thresholds, ~0.9 s with Python's defaults). At the end, skip the
    interpreter's teardown (freeing every object costs ~20 ms): by then every file rail
    wrote is closed, and rail registers no exit handler. For the same reason the memos
    whose scope ends are held to the end, not freed (:func:`renderer.memo.hold_ended_memos`).
    Tests call ``main`` in-process and get the ordinary behaviour.
    """
    import contextlib
    import gc
    import os

    from .cache.later import write_behind
    from .memo import hold_ended_memos

    gc.disable()
    hold_ended_memos()
    write_behind()
    try:
        main()
        code: object = EXIT_OK
    except SystemExit as done:
        code = done.code
    if "renderer.cache.store" in sys.modules:  # the run wrote to the cache: record its size
        from . import cache

        with contextlib.suppress(OSError):
            cache.flush()
    for stream in (sys.stdout, sys.stderr):
        # A closed pipe (rail lint | head): nothing more can be said.
        with contextlib.suppress(OSError, ValueError):
            stream.flush()
    if code is None:
        code = EXIT_OK
    elif not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    os._exit(code)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rail")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@click.option(
    "--no-cache",
    is_flag=True,
    help="Neither read nor write rail's cache for this run (as RAIL_NO_CACHE=1; see `rail cache --help`).",
)
@click.pass_context
def main(ctx: click.Context, debug: bool, no_cache: bool) -> None:
    """Render GitOps stacks into deterministic Flux manifests, lint them, diff them."""
    from . import cache

    ctx.obj = {"debug": debug}
    if no_cache:
        cache.switch_off()
    else:
        cache.settings.switch_on()  # one command's switch, not the next one's (tests run many in a process)
    if ctx.invoked_subcommand not in (None, "cache", "explain") and cache.enabled():
        from .cache.classcode import kept_class_code

        # Before the pipelines are imported: their dataclasses' code comes from the cache.
        ctx.with_resource(kept_class_code())
        from .app import caching

        ctx.with_resource(caching())


@main.command("render")
@click.option(
    "--target",
    type=click.Choice(["flux", "argo", "all"]),
    default="all",
    show_default=True,
    help="Which output to render.",
)
@click.option("--check", is_flag=True, help="Write nothing; list missing, stale and extra files (exit 1 if any).")
@click.option(
    "-C",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Start looking for rail.yaml here instead of the current directory.",
)
def render_command(target: str, check: bool, directory: Path) -> None:
    """Render the stack found from the current directory into rendered/."""
    from .app import run_render
    from .report.render import report_render

    outcome = run_render(directory, target, check)
    click.echo(report_render(outcome), nl=False)
    sys.exit(EXIT_FINDINGS if check and outcome.plan.drift else EXIT_OK)


def _default_format() -> str:
    import os

    actions = os.environ.get("GITHUB_ACTIONS") == "true" or os.environ.get("GITEA_ACTIONS") == "true"
    return "github" if actions else "text"


def _write_reports(render: Callable[[str, bool], str], formats: tuple[str, ...], outputs: tuple[Path, ...]) -> None:
    """Each --format in turn; the i-th one goes to the i-th --output, the rest to stdout.

    ``render(format, to_terminal)`` makes one report; colour only ever reaches a terminal.
    """
    if len(outputs) > max(len(formats), 1):
        raise click.UsageError("more --output than --format options: pair each --output with a --format")
    _check_outputs(outputs)
    for index, name in enumerate(formats or (_default_format(),)):
        if index < len(outputs):
            _write_atomically(outputs[index], render(name, False))
        else:
            click.echo(render(name, sys.stdout.isatty()), nl=False)


def _check_outputs(outputs: tuple[Path, ...]) -> None:
    """Every --output's folder exists, checked before any work: a missing one is bad
    input (exit 2 naming it), not an internal error after a long run."""
    from .errors import InputError, Problem

    problems = [
        Problem(path=str(path), message="cannot write the report: its folder does not exist", hint="create it first")
        for path in outputs
        if not path.absolute().parent.is_dir()
    ]
    if problems:
        raise InputError(problems)


def _write_atomically(path: Path, text: str) -> None:
    """The whole report or nothing: written beside ``path``, then renamed over it."""
    import os
    import stat
    import tempfile

    from .errors import InputError, Problem

    folder = path.absolute().parent
    try:
        special = not stat.S_ISREG(path.stat().st_mode)
    except OSError:
        special = False
    if special:  # /dev/stdout, a named pipe: written as it is, there is nothing to replace
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            raise InputError(
                Problem(path=str(path), message=f"cannot write the report: {error.strerror}", hint="check the path")
            ) from None
        return
    try:
        handle, temporary = tempfile.mkstemp(dir=folder, prefix=f".{path.name}.", suffix=".tmp")
    except OSError as error:
        raise InputError(
            Problem(path=str(path), message=f"cannot write the report: {error.strerror}", hint="check the folder")
        ) from None
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(text)
        umask = os.umask(0o22)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)  # as an ordinary write would make it, not mkstemp's 0600
        os.replace(temporary, path)
    except OSError as error:
        Path(temporary).unlink(missing_ok=True)
        raise InputError(
            Problem(path=str(path), message=f"cannot write the report: {error.strerror}", hint="check the path")
        ) from None


def _emit_reports(result: object, formats: tuple[str, ...], outputs: tuple[Path, ...]) -> None:
    from .report.findings import REPORTERS

    _write_reports(lambda name, _: REPORTERS[name](result), formats, outputs)  # type: ignore[arg-type]


_FORMAT = click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["text", "json", "github", "sarif"]),
    help="Report format; repeat for several (github is the default under GitHub or Gitea Actions).",
)
_OUTPUT = click.option(
    "--output",
    "outputs",
    multiple=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the report of the matching --format to this file instead of stdout.",
)
_DIRECTORY = click.option(
    "-C",
    "--directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("."),
    help="Start looking for rail.yaml here instead of the current directory.",
)


@main.command("lint")
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@_FORMAT
@_OUTPUT
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@click.option("--exhaustive", is_flag=True, help="A release no layer claims is an error.")
@click.option(
    "--all-files",
    is_flag=True,
    help="Without rail.yaml: lint every file as written, not only what Flux Kustomizations apply.",
)
@_DIRECTORY
def lint_command(
    paths: tuple[Path, ...],
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
    strict: bool,
    exhaustive: bool,
    all_files: bool,
    directory: Path,
) -> None:
    """Lint the stack (specs and rendered/) and any manifest files or folders named."""
    from .app import run_lint
    from .lint.rule import LintOptions

    _check_outputs(outputs)
    result = run_lint(directory, list(paths), LintOptions(exhaustive=exhaustive, strict=strict), all_files)
    _emit_reports(result, formats, outputs)
    sys.exit(EXIT_FINDINGS if result.failed else EXIT_OK)


_BASE_TIP = click.option(
    "--base-tip",
    is_flag=True,
    help="Compare with the base's tip instead of the merge base (what a pull request shows).",
)


def _check_range(base: str | None, head: str | None, staged: bool) -> None:
    if base is not None and ".." in base and (head or staged):
        raise click.UsageError(f"--base '{base}' names both sides: it does not take --head or --staged")


@main.command("check")
@click.option(
    "--base",
    help="Also diff against this revision (its merge base with HEAD) and apply the diff rules (CI: the target branch).",
)
@_BASE_TIP
@click.option(
    "--staged",
    is_flag=True,
    help="Check the index, not the working tree: render check, lint and the diff rules against HEAD (or --base),"
    " in one process (the rail-check pre-commit hook).",
)
@_FORMAT
@_OUTPUT
@click.option("--strict", is_flag=True, help="Warnings fail too.")
@_DIRECTORY
def check_command(
    base: str | None,
    base_tip: bool,
    staged: bool,
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
    strict: bool,
    directory: Path,
) -> None:
    """The one command for CI: rendered/ up to date, every lint rule, and with --base the diff rules.

    With --staged, the same of what is staged (pre-commit): rendered/ as staged against what
    the staged specs render, the staged tree's lint, and the staged change's diff rules.
    """
    from .app import run_check
    from .lint.rule import LintOptions

    if base is not None and staged:
        _check_range(base, None, staged)
    _check_outputs(outputs)
    result = run_check(directory, LintOptions(strict=strict), base, staged, base_tip)
    _emit_reports(result, formats, outputs)
    sys.exit(EXIT_FINDINGS if result.failed else EXIT_OK)


@main.command("diff")
@click.option(
    "--base",
    default="HEAD",
    show_default=True,
    help="Compare against the merge base of this revision and the head (A...B and A..B as in git).",
)
@click.option("--head", help="The revision to compare (default: the working tree, uncommitted changes included).")
@_BASE_TIP
@click.option("--staged", is_flag=True, help="Compare the index (what is staged) with --base: for pre-commit.")
@click.option(
    "--format",
    "formats",
    multiple=True,
    type=click.Choice(["text", "json", "github", "sarif", "markdown"]),
    help="Report format; repeat for several. markdown is for a pull-request comment.",
)
@_OUTPUT
@click.option("--strict", is_flag=True, help="Warnings block too.")
@_DIRECTORY
def diff_command(
    base: str,
    head: str | None,
    base_tip: bool,
    staged: bool,
    formats: tuple[str, ...],
    outputs: tuple[Path, ...],
    strict: bool,
    directory: Path,
) -> None:
    """What the change really does to the rendered objects, and whether it may pass."""
    import os

    from .app import run_diff
    from .diff.engine import DiffOutcome
    from .lint.rule import LintOptions
    from .report import diff as diff_report
    from .report.comment.links import links_from

    if staged and head:
        raise click.UsageError("--staged compares the index: it does not take --head")
    _check_range(base, head, staged)
    _check_outputs(outputs)
    outcome = run_diff(directory, base, head, staged, LintOptions(strict=strict), base_tip=base_tip)

    def comment(result: DiffOutcome) -> str:  # file:line links from the CI's forge, repository and commit
        return diff_report.markdown(result, links=links_from(os.environ, result.head_commit))

    plain = {
        "json": diff_report.as_json,
        "github": diff_report.github,
        "sarif": diff_report.sarif,
        "markdown": comment,
    }

    def render(name: str, terminal: bool) -> str:
        if name == "text":
            return diff_report.text(outcome, colour=terminal and not os.environ.get("NO_COLOR"))
        return plain[name](outcome)

    _write_reports(render, formats, outputs)
    sys.exit(EXIT_FINDINGS if outcome.failed else EXIT_OK)


@main.command("explain")
@click.argument("rule", required=False)
def explain_command(rule: str | None) -> None:
    """Print a rule's documentation; without RULE, list the rules."""
    import difflib

    from .diff.rule import DiffRule
    from .diff.rules import DIFF_RULES
    from .lint.rule import SCOPES, Rule
    from .lint.rules import RULES, SUPPRESSION_RULE

    everything: list[Rule | DiffRule] = [*RULES, *DIFF_RULES]
    documented = {item.id: f"{item.doc.strip()}\n\nScope: {item.scope}: {SCOPES[item.scope]}." for item in everything}
    if rule is None:
        for item in everything:
            click.echo(f"{item.id:24} {item.severity:8} {item.summary}")
        click.echo(
            f"{SUPPRESSION_RULE:24} {'warning':8} a suppression that names no rule, lacks a reason or matches nothing"
        )
        return
    if rule not in documented:
        close = difflib.get_close_matches(rule, list(documented), n=1)
        hint = f" Did you mean '{close[0]}'?" if close else " Run `rail explain` for the list."
        raise click.UsageError(f"unknown rule '{rule}'.{hint}")
    click.echo(documented[rule].strip() + "\n")


@main.group("cache")
def cache_group() -> None:
    """rail's cache between runs: parsed files, rendered objects, verdicts, compiled templates.

    \b
    The folder is RAIL_CACHE_DIR, else $XDG_CACHE_HOME/rail, else ~/.cache/rail, and is
    used only while it is private (a directory of yours, mode 0700). Every entry is keyed
    by the digest of what it depends on, so it is never stale; no secret is ever stored.
    Size cap: RAIL_CACHE_MAX_BYTES (default 2 GiB). Off: RAIL_NO_CACHE=1 or
    `rail --no-cache COMMAND`. A kept diff side is written after the report, by a
    child the command does not wait for (by the command itself in CI, or with
    RAIL_CACHE_BACKGROUND=0). Deleting the folder is always safe.
    """


@cache_group.command("info")
def cache_info_command() -> None:
    """Where the cache is, whether it is in use (and why not), what it holds, the cap."""
    from .cache import admin

    click.echo(admin.info(), nl=False)


@cache_group.command("prune")
def cache_prune_command() -> None:
    """Apply the size cap now (least recently used first) and remove other versions' entries."""
    from .cache import admin

    click.echo(_cache_admin(admin.prune), nl=False)


@cache_group.command("clear")
def cache_clear_command() -> None:
    """Remove everything rail wrote in the cache folder (and nothing else)."""
    from .cache import admin

    click.echo(_cache_admin(admin.clear), nl=False)


def _cache_admin(action: Callable[[], str]) -> str:
    from .cache.admin import Unusable
    from .errors import InputError, Problem

    try:
        return action()
    except Unusable as refused:
        raise InputError(Problem(path="rail cache", message=str(refused), hint="check RAIL_CACHE_DIR")) from None
