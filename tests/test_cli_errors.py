"""The CLI's errors: one line naming the file, the line and the fix; `--debug` for the traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmopt.cli import main

ROOT = Path(__file__).resolve().parents[1]
SPACE = str(ROOT / "spaces" / "qa_pipeline.py")
OBJECTIVE = str(ROOT / "objectives" / "simulated_qa.py")

BROKEN = {
    "syntax": ("from llmopt import Space\nSPACE = Space({\n    'x': ,\n})\n", 3, "SyntaxError"),
    "import": ("import numpy\nimport llmopt_no_such_package_here\nSPACE = None\n", 2, "ModuleNotFoundError"),
    "raises": ("from llmopt import Space\n\n\ndef build():\n    raise RuntimeError('no config')\n\n\nSPACE = build()\n", 5,
               "RuntimeError"),
}


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("kind", sorted(BROKEN))
@pytest.mark.parametrize("role", ["space", "objective"])
def test_broken_user_file_is_one_line_with_file_and_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                         kind: str, role: str) -> None:
    source, line, error = BROKEN[kind]
    bad = tmp_path / f"bad_{kind}_{role}.py"
    bad.write_text(source)
    space, objective = (str(bad), OBJECTIVE) if role == "space" else (SPACE, str(bad))
    db = str(tmp_path / "x.db")
    code, _, err = cli(capsys, "--storage", db, "optimize", "--space", space, "--objective", objective, "--n-trials", "1")
    lines = err.strip().splitlines()
    assert code == 1 and len(lines) == 1, err
    assert f"{bad}:{line}" in lines[0] and error in lines[0] and "fix:" in lines[0]
    assert "Traceback" not in err


def test_debug_shows_the_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(BROKEN["raises"][0])
    code, _, err = cli(capsys, "--debug", "optimize", "--storage", str(tmp_path / "x.db"), "--space", str(bad),
                       "--objective", OBJECTIVE, "--n-trials", "1")
    assert code == 1 and "Traceback" in err and "RuntimeError: no config" in err


def test_unexpected_errors_are_one_line_too(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    import llmopt.cli as cli_module

    def boom(args):  # type: ignore[no-untyped-def]
        raise KeyError("internal")

    monkeypatch.setitem(cli_module.COMMANDS, "studies", boom)
    code, _, err = cli(capsys, "studies")
    assert code == 1 and err.count("\n") == 1 and "unexpected KeyError" in err and "--debug" in err


def test_resume_with_another_sampler_needs_change_sampler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "s.db")
    base = ["--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--quiet", "--seed", "0"]
    assert cli(capsys, *base, "--n-trials", "3", "--sampler", "tpe")[0] == 0
    assert cli(capsys, *base, "--n-trials", "1")[0] == 0  # resumed with the stored tpe
    from llmopt import load_study

    assert load_study("quickstart", storage=db).sampler.to_dict()["type"] == "tpe"
    code, _, err = cli(capsys, *base, "--n-trials", "1", "--sampler", "random")
    assert code == 1 and "was run with sampler" in err and "--change-sampler" in err
    code, _, err = cli(capsys, *base, "--n-trials", "1", "--sampler", "random", "--change-sampler")
    assert code == 0 and "sampler switched to random" in err
    assert load_study("quickstart", storage=db).sampler.to_dict()["type"] == "random"


def test_upgrade_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "u.db")
    assert cli(capsys, "--storage", db, "optimize", "--space", SPACE, "--objective", OBJECTIVE, "--n-trials", "1", "--quiet")[0] == 0
    code, out, _ = cli(capsys, "upgrade", "--storage", db)
    assert code == 0 and "schema v" in out


def test_the_installed_command_prints_no_traceback(tmp_path: Path) -> None:
    bad = tmp_path / "bad.py"
    bad.write_text(BROKEN["syntax"][0])
    done = subprocess.run([sys.executable, "-m", "llmopt.cli", "--storage", str(tmp_path / "x.db"), "optimize",
                           "--space", str(bad), "--objective", OBJECTIVE], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and "Traceback" not in done.stderr and f"{bad}:3" in done.stderr
