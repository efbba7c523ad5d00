"""The ``rail`` command line: click parses, :mod:`renderer.app` does the work."""

from __future__ import annotations

import sys
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
        except Exception as error:
            if ctx.obj and ctx.obj.get("debug"):
                raise
            # The exception text may quote input: print its type only.
            click.echo(
                f"rail: internal error ({type(error).__name__}); rerun with --debug for a traceback and report it",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="rail")
@click.option("--debug", is_flag=True, help="Show a traceback on internal errors.")
@click.pass_context
def main(ctx: click.Context, debug: bool) -> None:
    """Render GitOps stacks into deterministic Flux manifests, lint them, diff them."""
    ctx.obj = {"debug": debug}


@main.command("render")
@click.option(
    "--target",
    type=click.Choice(["flux", "all"]),
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
