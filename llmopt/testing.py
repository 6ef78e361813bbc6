"""Test doubles for users' own tests: nothing here reaches a real LLM API.

`StubLLMServer(answer=fn, delay=, fail=)` is a scripted OpenAI-compatible HTTP server on a
free local port (`server.api_base`, `server.model`), usable with `acomplete`/`complete` and in
an `Evaluation` exactly like a real provider: real HTTP, metered and cached the same way.
"""

from llmopt.evaluation.stub_server import StubLLMServer

__all__ = ["StubLLMServer"]
