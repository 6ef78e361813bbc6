"""A key planted in a pipeline's source and in its error messages reaches no database, log or CLI output.

The objective files are written into a temporary directory so their source lines literally hold
the key, as a user's code would; the key itself is built at runtime so this repository holds none.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest

from llmopt.cli import main

ROOT = Path(__file__).resolve().parents[2]
SPACE = ROOT / "spaces" / "qa_pipeline.py"
KEY = "sk-" + "proj-" + "Zq9" * 12  # the shape of an OpenAI project key
HEADER = "Bearer " + "tok" * 10


def plain_objective(tmp: Path) -> Path:
    path = tmp / "plain_objective.py"
    path.write_text(textwrap.dedent(f'''
        OBJECTIVES = {{"accuracy": "maximize", "cost": "minimize", "latency": "minimize"}}


        def call_provider(prompt):
            headers = {{"Authorization": "{HEADER}"}}
            return provider_request(prompt, api_key="{KEY}", headers=headers)


        def provider_request(prompt, api_key, headers):
            raise RuntimeError(f"401 from provider: key {{api_key}} rejected, headers {{headers}}")


        def evaluate(trial):
            if trial.number % 2:
                call_provider("hello")
            return {{"accuracy": 0.5, "cost": 1.0 + trial.number, "latency": 1.0}}
        '''))
    return path


def evaluation_objective(tmp: Path) -> Path:
    path = tmp / "eval_objective.py"
    path.write_text(textwrap.dedent(f'''
        from llmopt import Evaluation, Price, complete
        from llmopt.testing import StubLLMServer

        SERVER = StubLLMServer(answer=lambda messages: "4")
        SERVICES = [SERVER]


        def pipeline(config, example):
            reply = complete("openai/stub", example["question"], api_base=SERVER.api_base, api_key="{KEY}")
            if example.id == "q1":
                raise ValueError("provider said: invalid api_key={KEY}")
            return reply.text


        EVALUATION = Evaluation(
            [{{"id": f"q{{i}}", "question": "2+2?", "answer": "4"}} for i in range(4)],
            pipeline,
            objectives=["accuracy", "cost", "latency_p95"],
            prices={{"openai/stub": Price(prompt=1e-6, completion=2e-6)}},
            pruner=None,
            max_error_rate=1.0,
        )
        '''))
    return path


def database_bytes(db: Path) -> bytes:
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # WAL pages back in the file (the -wal is checked too)
    conn.close()
    data = db.read_bytes()
    for extra in (Path(f"{db}-wal"), Path(f"{db}-journal")):
        if extra.exists():
            data += extra.read_bytes()
    return data


def dump(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        return json.dumps({t: conn.execute(f"SELECT * FROM {t}").fetchall() for t in tables}, default=str)
    finally:
        conn.close()


@pytest.mark.parametrize("kind", ["plain", "evaluation"])
def test_no_planted_secret_anywhere(tmp_path: Path, kind: str, capsys: pytest.CaptureFixture[str],
                                    caplog: pytest.LogCaptureFixture) -> None:
    objective = plain_objective(tmp_path) if kind == "plain" else evaluation_objective(tmp_path)
    space = SPACE if kind == "plain" else _space(tmp_path)
    db = tmp_path / "secret.db"
    caplog.set_level("DEBUG", logger="llmopt")
    outputs = []
    assert main(["--storage", str(db), "optimize", "--space", str(space), "--objective", str(objective),
                 "--n-trials", "4", "--seed", "0", "--sampler", "random"]) == 0
    outputs.append(capsys.readouterr())
    for argv in (["studies"], ["trials", "quickstart"], ["trials", "quickstart", "--format", "json"],
                 ["trials", "quickstart", "--format", "csv"], ["report", "quickstart"],
                 ["report", "quickstart", "--format", "json"]):
        assert main(["--storage", str(db), *argv]) == 0
        outputs.append(capsys.readouterr())
    text = "\n".join(o.out + o.err for o in outputs) + caplog.text
    stored = dump(db)
    assert "[REDACTED]" in stored or "[REDACTED]" in text  # the failures were stored, with the key removed
    assert "401 from provider" in stored or "provider said" in stored
    for secret in (KEY, KEY[:20], HEADER.split()[1]):
        assert secret not in text, f"{secret[:8]}... in CLI output or logs"
        assert secret not in stored, f"{secret[:8]}... in a table"
        assert secret.encode() not in database_bytes(db), f"{secret[:8]}... in the database file"


def _space(tmp: Path) -> Path:
    path = tmp / "space.py"
    path.write_text("from llmopt import ChoiceVar, Space\nSPACE = Space({'style': ChoiceVar(['a', 'b', 'c', 'd'])})\n")
    return path
