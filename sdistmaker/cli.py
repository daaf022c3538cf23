"""The command lines: ``sdists_from_tags`` and ``make_sdist``, thin layers over the library."""

from __future__ import annotations

import argparse
import functools
import logging
import math
import re
import signal
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from sdistmaker import vcs
from sdistmaker.config import Config, load_defaults
from sdistmaker.errors import ConfigError, SdistmakerError
from sdistmaker.hooks import start_background_run
from sdistmaker.models import Tag
from sdistmaker.outdir.lock import Busy, Stalled
from sdistmaker.outdir.store import Store
from sdistmaker.text import without_controls

logger = logging.getLogger("sdistmaker")

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


class _Terminated(KeyboardInterrupt):
    """SIGTERM, as systemd and timeouts stop a program: handled as Ctrl-C is."""


def _terminate(signum: int, frame: object) -> None:
    # A second SIGTERM, should stopping hang, ends the program at once.
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    raise _Terminated


def _interruptible(command: Callable[[Sequence[str] | None], int]) -> Callable[..., int]:
    """Ctrl-C or SIGTERM end a command with one line, its builds stopped: what it published
    stays, and the next run goes on from there (files and state are staged, then renamed). The
    exit status is the one a shell reports for a command that signal ended (130, 143)."""

    @functools.wraps(command)
    def wrapper(argv: Sequence[str] | None = None) -> int:
        signal.signal(signal.SIGTERM, _terminate)
        try:
            return command(argv)
        except _Terminated:
            logger.critical("terminated: what was published stays; the next run goes on")
            return 128 + signal.SIGTERM
        except KeyboardInterrupt:
            logger.critical("interrupted: what was published stays; the next run goes on")
            return 128 + signal.SIGINT
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_DFL)

    return wrapper


def _seconds(text: str) -> float:
    """A command-line number of seconds: finite, not negative."""
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not math.isfinite(seconds) or seconds < 0:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}")
    return seconds


def _verbosity(parser: argparse.ArgumentParser) -> None:
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-v", "--verbose", action="store_true", help="also say what is up to date")
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="say nothing unless something new fails or builds begin to run without a sandbox",
    )


def _configure_logging(arguments: argparse.Namespace) -> None:
    level = logging.DEBUG if arguments.verbose else logging.INFO
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_OneLineFormatter("%(message)s"))
    if arguments.quiet:
        # Quiet still shows new failures, which are logged as errors.
        level = logging.ERROR
    logger.handlers[:] = [handler]
    logger.setLevel(level)


class _OneLineFormatter(logging.Formatter):
    """Each event one plain line. Messages carry text from outside (a build's output, a
    server's error): its terminal escape sequences (clearing the screen, setting the title,
    colours) are dropped and other control characters (carriage returns, line ends) replaced,
    so that no message can redraw a terminal or a cron mail, or pass for two."""

    def format(self, record: logging.LogRecord) -> str:
        return without_controls(_ESCAPE_SEQUENCE.sub("", super().format(record)))


# ECMA-48: a control sequence (ESC [ ... final byte), a string command such as an operating
# system command (ESC ] ... BEL or ESC \), or any other escape (ESC, intermediates, final byte).
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b[\]P^_X][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[ -/]*[0-~]"
)


class _TerminalProgress:
    """A one-line progress display, redrawn in place; only for a person at a terminal."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, number: int, total: int, tag: Tag) -> None:
        self.stream.write(f"\r\x1b[K[{number}/{total}] {tag}")
        self.stream.flush()

    def clear(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="sdists_from_tags",
        description="Build an sdist for every release tag in your repositories.",
    )
    parser.add_argument("-d", "--defaults-file", metavar="FILE", help="your defaults file")
    parser.add_argument(
        "--print-example-defaults",
        action="store_true",
        help="print the documented example defaults file and exit",
    )
    parser.add_argument("--dry-run", action="store_true", help="list what would be built")
    parser.add_argument(
        "--retry-failed", action="store_true", help="build tags that failed before again"
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="only render the index again, looking at every project folder (after changing "
        "YANKED or templates, or adding files by hand)",
    )
    for system in vcs.systems():
        _hook_option(parser, system)
    parser.add_argument(
        "--wait",
        type=_seconds,
        default=0,
        metavar="SECONDS",
        help="wait this long for another run to finish instead of leaving at once",
    )
    _verbosity(parser)
    return parser


@_interruptible
def sdists_from_tags(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    arguments = parser.parse_args(argv)
    _configure_logging(arguments)

    if arguments.print_example_defaults:
        sys.stdout.write(example_defaults())
        return EXIT_OK
    if not arguments.defaults_file:
        parser.error("--defaults-file is required (see --print-example-defaults)")
    try:
        config = load_defaults(arguments.defaults_file)
    except ConfigError as error:
        logger.critical("%s", error)
        return EXIT_USAGE

    for system in vcs.systems():
        given = getattr(arguments, _hook_name(system), None)
        if given:
            return _hook(system, given, config)
    return _run(arguments, config)


def _run(arguments: argparse.Namespace, config: Config) -> int:
    # Only here: hooks return without loading the pipeline (twine, jinja2, build).
    from sdistmaker.pipeline.run import run

    progress = (
        _TerminalProgress(sys.stderr) if sys.stderr.isatty() and not arguments.quiet else None
    )
    try:
        summary = run(
            config,
            dry_run=arguments.dry_run,
            retry_failed=arguments.retry_failed,
            render_only=arguments.render_only,
            wait=arguments.wait,
            progress=progress,
        )
    except Busy as error:
        logger.info("%s; it is doing the work, leaving", error)
        return EXIT_OK
    except Stalled as error:  # said every time: the index stays as it is until someone acts
        logger.critical("%s", error)
        return EXIT_FAILED
    except ConfigError as error:  # a template in TEMPLATES
        logger.critical("%s", error)
        return EXIT_USAGE
    except SdistmakerError as error:
        logger.critical("%s", error)
        return EXIT_FAILED
    finally:
        if progress:
            progress.clear()
    logger.info("%s", summary)
    return summary.exit_status


def _hook_option(parser: argparse.ArgumentParser, system: vcs.VersionControl) -> None:
    """The option a system's commit hook calls sdistmaker with (``--svn-commit REPOS REV``)."""
    hook = system.hook
    if hook is None:
        return
    if hook.metavar:
        parser.add_argument(
            hook.option,
            nargs=len(hook.metavar),
            metavar=hook.metavar,
            help=hook.help,
            dest=_hook_name(system),
        )
    else:
        parser.add_argument(
            hook.option, action="store_true", help=hook.help, dest=_hook_name(system)
        )


def _hook_name(system: vcs.VersionControl) -> str:
    return f"hook_{system.name}"


def _hook(system: vcs.VersionControl, given: list[str] | bool, config: Config) -> int:
    """Return to the VCS at once; a background run does the work when a tag was touched."""
    arguments = given if isinstance(given, list) else []
    try:
        # A hook started with its input closed has no sys.stdin: nothing came on it.
        touched = system.touched(arguments, sys.stdin or ())
    except SdistmakerError as error:
        logger.critical("%s", error)
        return EXIT_FAILED
    if touched:
        assert config.source is not None
        start_background_run(config.source, Store(config.outdir).private)
        logger.info("a tag changed: building in the background")
    return EXIT_OK


def example_defaults() -> str:
    from importlib import resources  # only here: most runs print no example

    return resources.files("sdistmaker").joinpath("defaults_example.py").read_text("utf-8")


@_interruptible
def make_sdist(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="make_sdist",
        description="Build the sdist of one tag into DEST/<project>/ and print its path.",
    )
    forms = ", or ".join(system.tag_url for system in vcs.systems())
    parser.add_argument("tag_url", metavar="TAG_URL", help=forms)
    parser.add_argument("destination", metavar="DEST")
    parser.add_argument("--timeout", type=_seconds, default=600, help="seconds the build may take")
    parser.add_argument(
        "--legacy-python", default="", metavar="PYTHON", help="interpreter for old setup.py files"
    )
    _verbosity(parser)
    arguments = parser.parse_args(argv)
    _configure_logging(arguments)
    from sdistmaker.pipeline.one_tag import make_sdist as build_one

    try:
        path = build_one(
            arguments.tag_url,
            arguments.destination,
            timeout=arguments.timeout,
            legacy_python=arguments.legacy_python,
        )
    except SdistmakerError as error:
        logger.critical("%s", error)
        return EXIT_FAILED
    print(path)
    return EXIT_OK
