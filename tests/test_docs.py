"""Every example in README.md and examples/ runs, and the README's commands match CI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def runnable_blocks() -> list[str]:
    """Blocks that run as they are; the constraint snippet uses placeholders (tested below)."""
    return [b for b in python_blocks() if "my_module" not in b]


def test_readme_opens_with_the_two_commands_and_ci_runs_the_same_tests() -> None:
    first_block = re.search(r"```bash\n(.*?)```", README, flags=re.S)
    assert first_block and README.index(first_block.group(0)) < 200
    install_run, tests = first_block.group(1).strip().splitlines()
    assert install_run.startswith("bash scripts/install.sh") and "llmopt optimize" in install_run
    assert tests.startswith("bash scripts/install.sh test") and "pytest" in tests
    ci = (ROOT / ".ci" / "run").read_text()
    assert tests in ci, ".ci/run must run the README's test command"


@pytest.mark.parametrize("index", range(len(runnable_blocks())))
def test_readme_python_block_runs(index: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    block = runnable_blocks()[index]
    monkeypatch.chdir(tmp_path)
    exec(compile(block, f"README.md block {index}", "exec"), {"__name__": "readme"})


def test_readme_constraint_lines_are_valid() -> None:
    """The constraint snippet uses placeholders; its Forbid/Implies lines must still build."""
    from llmopt import ChoiceVar, FloatVar, Forbid, Implies, Space

    block = next(b for b in python_blocks() if "my_module" in b)
    lines = [line.split("#")[0].strip() for line in block.splitlines() if line.startswith(("Forbid", "Implies"))]
    constraints = [eval(line, {"Forbid": Forbid, "Implies": Implies}) for line in lines]
    space = Space(
        {
            "provider": ChoiceVar(["groq", "openai"]),
            "model": ChoiceVar(["tiny", "big"]),
            "strategy": ChoiceVar(["pot", "direct", "self_consistency"]),
            "temperature": FloatVar(0.0, 1.0, step=0.1),
        },
        constraints,
    )
    assert len(space.constraints) == 3


@pytest.mark.parametrize("script", sorted((ROOT / "examples").glob("*.py")), ids=lambda p: p.name)
def test_example_script_runs(script: Path, tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(script), str(tmp_path / "ex.db")], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip(), "an example prints its result"
