"""The README's two commands: bin/run and bin/test, and CI calling exactly the latter."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_ci_runs_exactly_the_readme_test_command():
    lines = [line for line in (ROOT / ".ci" / "run").read_text().splitlines() if line and line[0] != "#"]
    assert lines[-1] == "bin/test"
    readme = (ROOT / "README.md").read_text()
    two_commands = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    assert "bin/run     # set up from a fresh clone and run the app, with demo data" in two_commands
    assert "bin/test    # run the whole test suite" in two_commands


IS_ROOT = os.geteuid() == 0


@pytest.mark.skipif(IS_ROOT and not shutil.which("runuser"), reason="needs runuser to drop root")
def test_without_root_bin_test_names_the_missing_debian_packages():
    # As an unprivileged user apt-get is not an option: the script says what to install.
    probes = '"no-such-tool-xyz=redis-server" "ls=coreutils"'
    command = ["bash", "-c", f'source "{ROOT}/bin/lib/common.sh"; ensure_system_packages {probes}']
    if IS_ROOT:
        command = ["runuser", "-u", "nobody", "--", *command]
    result = subprocess.run(command, capture_output=True, text=True)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "Missing system packages: redis-server. "
        "Install them (e.g. sudo apt-get install redis-server) and run again."
    )
