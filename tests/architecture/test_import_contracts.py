"""The import contracts of .importlinter (app layers, the door's imports, the records floor) hold.

import-linter reads every import, lazy ones inside functions too, and fails on an ignore
that no longer matches an import: the known breaks listed there can only shrink.
"""

from __future__ import annotations

from importlinter.cli import lint_imports

from tests.architecture.scan import ROOT


def test_the_import_contracts_are_kept(capsys, monkeypatch):
    monkeypatch.chdir(ROOT)
    exit_code = lint_imports(config_filename=str(ROOT / ".importlinter"), no_cache=True, no_logo=True)
    assert exit_code == 0, capsys.readouterr().out
