"""The bundled example, run as ``example/run`` runs it: its repositories made anew, then the
main job with the defaults file named relative to the working folder."""

import subprocess
import sys
from pathlib import Path

from helpers.system import ROOT, require


def test_the_bundled_example_builds_every_release(tmp_path: Path) -> None:
    require("svnadmin")
    maker = ROOT / "example" / "make_repositories.py"
    subprocess.run([sys.executable, str(maker), str(tmp_path / "work")], check=True)
    command = [str(Path(sys.executable).parent / "sdists_from_tags")]
    command += ["--defaults-file=work/defaults.py"]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "failed" not in result.stderr.replace("failed 0 (new 0)", "")
    outdir = tmp_path / "work" / "var" / "private"
    assert sorted(str(p.relative_to(outdir)) for p in outdir.glob("*/*.tar.gz")) == [
        "acme-cli/acme_cli-0.9.tar.gz",
        "acme-cli/acme_cli-1.0.tar.gz",
        "acme-report/acme_report-1.0.tar.gz",
        "acme-report/acme_report-1.1.tar.gz",
        "acme-report/acme_report-2.0.tar.gz",
        "acme-utils/acme_utils-1.0.tar.gz",
        "acme-utils/acme_utils-1.1.tar.gz",
        "acme-web/acme_web-1.0.tar.gz",
        "acme-web/acme_web-1.1.tar.gz",
    ]
