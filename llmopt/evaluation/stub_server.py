"""StubLLMServer: a real OpenAI-compatible HTTP server with scripted answers, for tests and benchmarks.

Requests go over real HTTP through litellm, so retries, timeouts and metering are exercised
as in production, with no model and no API key. Usage counts are word counts.

>>> with StubLLMServer(answer=lambda messages: "4") as server:
...     import json, urllib.request
...     body = json.dumps({"model": "stub", "messages": [{"role": "user", "content": "2+2?"}]}).encode()
...     reply = json.load(urllib.request.urlopen(urllib.request.Request(server.api_base + "/chat/completions", body)))
>>> reply["choices"][0]["message"]["content"], reply["usage"]["prompt_tokens"]
('4', 1)
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

Answer = Callable[[list[dict[str, Any]]], str]


class _Server(ThreadingHTTPServer):
    request_queue_size = 128  # bursts of new connections (64 clients at once) must not overflow accept()


class StubLLMServer:
    """Answers `POST /v1/chat/completions` after `delay` seconds; `fail` maps request number -> HTTP status."""

    def __init__(self, answer: Answer | None = None, *, delay: float = 0.0, fail: dict[int, int] | None = None,
                 fail_always: int | None = None) -> None:
        self.answer = answer or (lambda messages: "ok")
        self.delay = delay
        self.fail = dict(fail or {})
        self.fail_always = fail_always
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it served at once: tests check concurrency limits with it
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def api_base(self) -> str:
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def _handle(self, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        with self._lock:
            number = len(self.requests)
            self.requests.append(body)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.delay:
                time.sleep(self.delay)
        finally:
            with self._lock:
                self.in_flight -= 1
        status = self.fail_always or self.fail.get(number)
        if status:
            return status, {"error": {"message": f"scripted failure {status}", "type": "stub", "code": status}}
        messages = body.get("messages") or []
        text = self.answer(messages)
        prompt_tokens = sum(len(str(m.get("content", "")).split()) for m in messages)
        completion_tokens = len(text.split())
        return 200, {
            "id": f"chatcmpl-{uuid.uuid4().hex[:12]}", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "stub"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens,
                      "total_tokens": prompt_tokens + completion_tokens},
        }

    def start(self) -> StubLLMServer:
        stub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                status, payload = stub._handle(body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

        self._server = _Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, name="llmopt-stub-llm", daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> StubLLMServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
