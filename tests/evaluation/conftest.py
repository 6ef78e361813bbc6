"""Fixtures for evaluation tests: a stub OpenAI-compatible server over real HTTP, a priced model."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from llmopt.evaluation import Price
from llmopt.evaluation.stub_server import StubLLMServer

STUB_MODEL = "openai/stub"
STUB_PRICE = {STUB_MODEL: Price(prompt=1e-6, completion=2e-6)}


def echo_last_word(messages: list[dict]) -> str:
    return str(messages[-1]["content"]).split()[-1]


@pytest.fixture
def stub() -> Iterator[StubLLMServer]:
    with StubLLMServer(answer=echo_last_word) as server:
        yield server
