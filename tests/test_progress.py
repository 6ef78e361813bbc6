"""The live progress line: on a terminal it rewrites one line; elsewhere it stays silent."""

from __future__ import annotations

import io

from llmopt.progress import ProgressLine


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal() -> None:
    stream = Terminal()
    progress = ProgressLine(10, stream=stream)
    progress.update(examples=3, dollars=0.25, force=True)
    progress.update(trials=1, front=2, force=True)
    progress.close()
    text = stream.getvalue()
    assert "\rtrials 0/10 | examples 3 | $0.2500 | front 0" in text
    assert "\rtrials 1/10 | examples 3 | $0.2500 | front 2" in text and text.endswith("\n")


def test_progress_is_silent_when_not_a_terminal() -> None:
    stream = io.StringIO()
    progress = ProgressLine(None, stream=stream)
    progress.update(trials=1, examples=5, force=True)
    progress.close()
    assert stream.getvalue() == "" and progress.trials == 1 and progress.examples == 5
