"""The live progress line: on a terminal it rewrites one line at most once a second, with the
elapsed and remaining time; elsewhere it stays silent."""

from __future__ import annotations

import io
import os
import pty
import subprocess
import sys
from pathlib import Path

from llmopt.progress import ProgressLine, duration

ROOT = Path(__file__).resolve().parents[1]


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_progress_line_on_a_terminal() -> None:
    stream, clock = Terminal(), Clock()
    progress = ProgressLine(10, stream=stream, clock=clock)
    progress.update(examples=3, dollars=0.25, force=True)
    clock.now = 30.0
    progress.update(trials=2, front=2)
    progress.close()
    text = stream.getvalue()
    assert "\rtrials 0/10 | examples 3 | $0.2500 | front 0 | 0s elapsed" in text
    assert "\rtrials 2/10 | examples 3 | $0.2500 | front 2 | 30s elapsed, ~2m00s left" in text and text.endswith("\n")


def test_rewrites_are_bounded_to_one_a_second() -> None:
    stream, clock = Terminal(), Clock()
    progress = ProgressLine(None, stream=stream, clock=clock)
    for i in range(1000):  # 1,000 examples in 10 s
        clock.now = i / 100
        progress.update(examples=1, force=i % 50 == 0)
    progress.close()
    rewrites = stream.getvalue().count("\r")
    assert 9 <= rewrites <= 12, rewrites  # one a second, plus the last
    assert "examples 1,000" in stream.getvalue().rsplit("\r", 1)[1]  # the final numbers are shown


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = ProgressLine(None, stream=stream)
    progress.update(trials=1, examples=5, force=True)
    progress.close()
    assert stream.getvalue() == "" and progress.trials == 1 and progress.examples == 5


def test_durations_read_well() -> None:
    assert [duration(s) for s in (0.4, 42, 185, 7620)] == ["0s", "42s", "3m05s", "2h07m"]


def test_a_recorded_terminal_gets_few_rewrites(tmp_path: Path) -> None:
    """Under a real pseudo-terminal (what `script` and tmux give), a study of 40 quick trials
    leaves a handful of rewrites of one line, not one line per trial or example."""
    script = tmp_path / "run.py"
    script.write_text(
        "import time\nimport llmopt\nfrom llmopt import FloatVar, RandomSampler, Space\nstart = time.monotonic()\n"
        "with llmopt.create_study('p', Space({'x': FloatVar(0, 1)}), {'y': 'maximize'}, storage=':memory:', seed=0,\n"
        "                         sampler=RandomSampler()) as s:\n"
        "    s.optimize(lambda t: time.sleep(0.05) or t.config['x'], n_trials=40, show_progress=True)\n"
        "print('seconds', round(time.monotonic() - start))\n")
    primary, secondary = pty.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script)], stdin=secondary, stdout=secondary, stderr=secondary, env=env)
    os.close(secondary)
    chunks = []
    while True:
        try:
            data = os.read(primary, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=120)
    os.close(primary)
    out = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, out
    seconds = int(out.rsplit("seconds", 1)[1].split()[0])
    assert "trials 40/40 | " in out and "examples" not in out  # a plain objective: no example or dollar counts
    assert out.count("\r") <= seconds + 3 and out.count("\n") <= 3, out  # one rewrite a second, not one per trial
