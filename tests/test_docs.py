"""Every example in README.md and examples/ runs, and the README's commands match CI."""

from __future__ import annotations

import os
import re
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def run_as_script(path: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a file the way a user would after copy-pasting it: `python file.py` in a fresh directory."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, str(path), *args], cwd=cwd, capture_output=True, text=True, timeout=300, env=env)


def test_readme_opens_with_the_two_commands_and_ci_runs_the_same_tests() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first_block and README.index(first_block.group(0)) < 200
    install_run, tests = first_block.group(1).strip().splitlines()
    assert install_run.startswith("bash scripts/install.sh") and "llmopt optimize" in install_run
    assert tests.startswith("bash scripts/install.sh test") and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci, ".ci/run must run the README's test command"


def test_every_python_block_is_found() -> None:
    """No block escapes the test by a different fence (`~~~`, "```py", trailing spaces)."""
    assert len(python_blocks()) == README.count("```python") >= 4
    fences = re.findall(r"^\s*(```|~~~)[ \t]*(\S*)", README, flags=re.M)
    languages = {lang.lower() for fence, lang in fences if fence == "```"} - {""}
    assert languages <= {"python", "bash"} and not [f for f, _ in fences if f == "~~~"], "a block the docs test would miss"


@pytest.mark.parametrize("index", range(len(python_blocks())))
def test_readme_python_block_runs_as_written(index: int, tmp_path: Path) -> None:
    """Every block, none skipped, as a script of its own: a block that names something it never
    defines (the constraints block once used `my_module.fits_budget`) fails here."""
    script = tmp_path / f"readme_block_{index}.py"
    script.write_text(python_blocks()[index])
    out = run_as_script(script, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.stdout.strip(), "every README block prints what it shows"


def cli_block() -> list[str]:
    """The commands of the README's "The CLI" block, comments stripped."""
    block = re.search(r"## The CLI\n+```bash\n(.*?)```", README, flags=re.S)
    assert block, "README has a CLI block"
    return [line.split("  #")[0].strip() for line in block.group(1).splitlines() if line.strip()]


def test_readme_cli_block_runs_as_written(tmp_path: Path) -> None:
    """Each command in a fresh directory holding the repo's spaces/ and objectives/, on the
    default storage (./llmopt.db), as a user would paste them."""
    for folder in ("spaces", "objectives"):
        (tmp_path / folder).symlink_to(ROOT / folder)
    env = {k: v for k, v in os.environ.items() if k != "LLMOPT_STORAGE"} | {"PYTHONPATH": str(ROOT)}
    outputs = {}
    for command in cli_block():
        assert command.startswith("llmopt "), command
        argv = [sys.executable, "-m", "llmopt", *shlex.split(command)[1:]]
        out = subprocess.run(argv, cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
        assert out.returncode == 0, f"{command}: {out.stderr[-2000:]}"
        outputs[command] = out.stdout
    assert (tmp_path / "quickstart.html").stat().st_size > 1_000_000
    assert any(o.startswith("deleted study") for o in outputs.values())


EXAMPLES = sorted((ROOT / "examples").glob("*.py"))


@pytest.mark.parametrize("script", EXAMPLES, ids=lambda p: p.name)
@pytest.mark.parametrize("storage", ["default", "argument"])
def test_example_script_runs(script: Path, storage: str, tmp_path: Path) -> None:
    """As its docstring says to run it: with no argument (its default storage in the cwd) or a STORAGE path."""
    out = run_as_script(script, *([str(tmp_path / "ex.db")] if storage == "argument" else []), cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    assert out.stdout.strip(), "an example prints its result"


def test_ask_tell_example_runs_twice(tmp_path: Path) -> None:
    """It uses load_if_exists=True on a 10-point space: the second run finds 2 points left and must
    end cleanly at once (it used to end with a SpaceExhaustedError traceback after ~2 minutes and
    leave a FAILED "no configuration could be proposed" trial)."""
    import llmopt
    from llmopt import TrialState

    script = ROOT / "examples" / "ask_tell.py"
    first = run_as_script(script, cwd=tmp_path)
    assert first.returncode == 0, first.stderr[-2000:]
    start = time.monotonic()
    second = run_as_script(script, cwd=tmp_path)
    elapsed = time.monotonic() - start
    assert second.returncode == 0, second.stderr[-2000:]
    assert "Traceback" not in second.stderr, second.stderr[-2000:]
    assert elapsed < 15, f"the second run took {elapsed:.0f}s (importing llmopt takes about 2 s)"
    study = llmopt.load_study("ask-tell", storage=str(tmp_path / "ask_tell.db"))
    try:
        states = [t.state for t in study.trials]
    finally:
        study.close()
    assert TrialState.FAILED not in states, [(t.number, t.state, t.error) for t in study.trials]
    assert states == [TrialState.COMPLETE] * 10, "8 trials, then the last 2 of the 10 points"
