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
import random
import socket
import sys
import threading
import time
import uuid
import weakref
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from llmopt.evaluation import _litellm

Answer = Callable[[list[dict[str, Any]]], str]


class _Server(ThreadingHTTPServer):
    """Tracks each connection's socket and thread, so stopping closes keep-alive connections and joins them.

    Clients (litellm's pooled httpx clients) hold HTTP/1.1 connections open, each parking one
    handler thread in a blocking read: without this every stopped server left them behind.
    """

    request_queue_size = 128  # bursts of new connections (64 clients at once) must not overflow accept()
    daemon_threads = True  # never block interpreter exit; close_connections joins them instead

    def server_activate(self) -> None:
        self.connections: dict[socket.socket, threading.Thread] = {}
        self.connections_lock = threading.Lock()
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(target=self._serve_connection, args=(request, client_address),
                                  name="llmopt-stub-llm-connection", daemon=True)
        with self.connections_lock:
            self.connections[request] = thread
        thread.start()

    def _serve_connection(self, request: Any, client_address: Any) -> None:
        try:
            self.process_request_thread(request, client_address)  # closes the socket when done
        finally:
            with self.connections_lock:
                self.connections.pop(request, None)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (or stop() closing a connection) is not worth a traceback on stderr."""
        if not isinstance(sys.exc_info()[1], OSError):
            super().handle_error(request, client_address)

    def close_connections(self, grace: float) -> None:
        """Stop reading (idle keep-alive connections end, answers in progress still go out), then cut the rest."""
        with self.connections_lock:
            open_now = list(self.connections.items())
        for how, wait in ((socket.SHUT_RD, grace), (socket.SHUT_RDWR, 1.0)):
            for sock, _ in open_now:
                try:
                    sock.shutdown(how)
                except OSError:  # already closed by its handler
                    pass
            deadline = time.monotonic() + wait
            for _, thread in open_now:
                if thread is not threading.current_thread():
                    thread.join(max(0.0, deadline - time.monotonic()))
            open_now = [(sock, thread) for sock, thread in open_now if thread.is_alive()]
            if not open_now:
                return


def _close_server(server: _Server, thread: threading.Thread, grace: float) -> None:
    """Stop accepting, join the accept loop, close every connection and the listening socket.

    A module function (not a method), so weakref.finalize can call it after the stub is gone.
    """
    api_base = f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    thread.join()
    server.close_connections(grace)
    server.server_close()
    _litellm.forget_clients(api_base)  # the client side of those connections: litellm's pooled sockets


class StubLLMServer:
    """Answers `POST /v1/chat/completions` after `delay` seconds; `fail` maps request number -> HTTP status,
    or "timeout": answer only after `hang` seconds (set it above the client's timeout)."""

    def __init__(self, answer: Answer | None = None, *, delay: float = 0.0, fail: dict[int, int | str] | None = None,
                 fail_always: int | None = None, hang: float = 2.0) -> None:
        self.answer = answer or (lambda messages: "ok")
        self.delay = delay
        self.hang = hang
        self.fail = dict(fail or {})
        self.fail_always = fail_always
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0  # the most requests it served at once: tests check concurrency limits with it
        self._lock = threading.Lock()
        self._server: _Server | None = None
        self._closer: weakref.finalize | None = None

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
        if status == "timeout":  # answered only after the client gave up: a request the provider may bill
            time.sleep(self.hang)
            status = None
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
        if self._server is not None:
            return self
        stub_ref = weakref.ref(self)  # handlers must not keep the stub alive, or it could never be collected

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms delayed-ACK stall

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("Content-Length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                stub = stub_ref()
                status, payload = stub._handle(body) if stub is not None else (503, {"error": {"message": "stopped"}})
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:  # keep test output clean
                return

        server = _Server(("127.0.0.1", 0), Handler)
        thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},  # stop() waits one poll
                                  name="llmopt-stub-llm", daemon=True)
        thread.start()
        self._server = server
        # stop() on garbage collection and at interpreter exit too; answers in progress get `delay` + 1 s to finish
        self._closer = weakref.finalize(self, _close_server, server, thread, self.delay + 1.0)
        return self

    def stop(self) -> None:
        """Close the server, its connections and threads; safe to call twice."""
        closer, self._closer, self._server = self._closer, None, None
        if closer is not None:
            closer()

    def __enter__(self) -> StubLLMServer:
        return self.start()

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


def seeded_faults(n: int, rate: float, seed: int, kinds: tuple[int | str, ...] = (429, 500, "timeout")) -> dict[int, int | str]:
    """A reproducible `fail=` schedule: each of the first `n` requests fails with probability `rate`,
    with a kind drawn from `kinds` (HTTP statuses, or "timeout").

    >>> seeded_faults(10, 0.3, seed=0) == seeded_faults(10, 0.3, seed=0)
    True
    """
    draw = random.Random(seed)
    schedule: dict[int, int | str] = {}
    for number in range(n):
        if draw.random() < rate:
            schedule[number] = draw.choice(kinds)
    return schedule
