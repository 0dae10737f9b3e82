"""Start Django in a fresh interpreter, to test what settings do at start-up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[1]
SETUP = "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE','healthspace.settings'); django.setup()"


def run_django(tmp_path: Path, code: str = "", **variables: str) -> subprocess.CompletedProcess[str]:
    """Run ``code`` after django.setup() with only PATH, HOME, a private var folder and ``variables`` set."""
    environ = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "HEALTHSPACE_VAR_DIR": str(tmp_path / "var"),
        **variables,
    }
    return subprocess.run(
        [sys.executable, "-c", f"{SETUP}; {code}" if code else SETUP],
        cwd=PROJECT_DIR,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
