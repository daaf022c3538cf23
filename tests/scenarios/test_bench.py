"""bench/ stays runnable: each benchmark once, at a tiny size. Speed is judged there, not here."""

import subprocess
import sys

from helpers.system import ROOT

BENCH = ROOT / "bench"


def bench(script: str, *arguments: str) -> list[str]:
    """Run one benchmark; it must succeed quietly on stderr. Returns what it printed."""
    result = subprocess.run(
        [sys.executable, BENCH / script, *arguments], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stderr == ""
    return result.stdout.splitlines()


def test_the_backfill_benchmark_runs_and_builds_the_same_files() -> None:
    lines = bench("backfill.py", "--setuptools-tags", "2", "--hatchling-tags", "1")
    assert lines[0] == "W1 backfill, 3 tags, same 3 files built:"
    assert lines[-1].startswith("  sdistmaker is ")
    assert lines[-1].endswith("x faster (target: 8x)")


def test_the_hook_benchmark_runs() -> None:
    lines = bench("hook.py", "--commits", "2")
    assert lines[0] == "W5 svn post-commit hook, 2 commits of each kind:"
    assert [line.split(":")[0].strip() for line in lines[1:]] == ["trunk commit", "tag copy"]


def test_the_no_op_benchmark_runs() -> None:
    lines = bench("noop.py", "--tags", "4")
    assert lines[0] == "W2 no-op run over 4 built tags (svn and git):"
    assert "(target: < 1 s)" in lines[2]
    assert lines[4].startswith("  with MIRROR set, nothing new: ")


def test_the_render_benchmark_runs() -> None:
    lines = bench("render.py", "--projects", "20", "--files", "2", "--runs", "2")
    assert lines[0] == "W3 full render, 20 projects x 2 files (40):"
    assert lines[4] == "W4 one project changed, median of 2 runs:"
    assert lines[5].startswith("      20 projects: a run that publishes one new file")


def test_the_discovery_benchmark_runs() -> None:
    lines = bench("discover.py", "--repositories", "3")
    assert lines[0] == "W6 no-op run over 3 git repositories:"
    assert lines[2].startswith("  nothing new, found in a folder: ")
    assert lines[4].startswith("  nothing new, found on GitLab: ")
