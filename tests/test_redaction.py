"""Redaction: every key shape, header and URL password becomes [REDACTED]; ordinary text, hashes and UUIDs stay."""

from __future__ import annotations

import time
import uuid

import pytest

from llmopt.redaction import MARK, MAX_DESCRIPTION, describe_exception, redact

# Planted secrets are built at runtime: no file in the repository holds anything key-shaped.
BODY = "A1b2C3d4" * 5
SECRETS = {
    "openai": "sk-" + BODY,
    "openai-project": "sk-" + "proj-" + BODY,
    "anthropic": "sk-" + "ant-" + "api03-" + BODY,
    "groq": "gsk" + "_" + BODY,
    "xai": "xai" + "-" + BODY,
    "huggingface": "hf" + "_" + BODY,
    "github": "ghp" + "_" + BODY,
    "github-pat": "github" + "_pat_" + "11AB" + BODY,
    "google": "AIza" + "Sy" + BODY[:33],
    "aws": "AKIA" + "IOSFODNN7EXAMPLE",
}


@pytest.mark.parametrize("name", sorted(SECRETS))
def test_each_key_shape_is_redacted_alone_and_in_text(name: str) -> None:
    key = SECRETS[name]
    assert redact(key) == MARK
    text = f"error: invalid key {key}, check your account"
    out = redact(text)
    assert key not in out and out == f"error: invalid key {MARK}, check your account"


@pytest.mark.parametrize(
    "text, kept",
    [
        ('complete(model, q, api_key="k-secret-1")', 'complete(model, q, api_key="'),
        ("{'api_key': 'short'}", "{'api_key': '"),
        ('{"api_key": "short"}', '{"api_key": "'),
        ("x-api-key: abc123def", "x-api-key: "),
        ("OPENAI_API_KEY=abc123", None),  # the name is part of a longer identifier: still an api key assignment
        ("password=hunter2 next", "password="),
        ("aws_secret_access_key = wJalrXUtnFEMI", "aws_secret_access_key = "),
    ],
)
def test_assignments_keep_the_name_and_drop_the_value(text: str, kept: str | None) -> None:
    out = redact(text)
    assert MARK in out
    value = text.split("=", 1)[-1] if "=" in text else text.split(":", 1)[-1]
    assert value.strip(" '\"{}") not in out.replace(MARK, "")
    if kept is not None:
        assert out.startswith(kept)


def test_authorization_headers_and_bearer_tokens() -> None:
    assert redact("Authorization: Bearer abc.def-123") == f"Authorization: Bearer {MARK}"
    assert redact("{'authorization': 'Basic dXNlcjpwdw=='}") == f"{{'authorization': 'Basic {MARK}'}}"
    assert redact("sent Bearer eyJhbGciOiJIUzI1NiJ9.e30.x to the proxy") == f"sent Bearer {MARK} to the proxy"
    assert redact("the bearer of bad news") == "the bearer of bad news"
    assert redact("Bearer messages arrive daily") == "Bearer messages arrive daily"


def test_url_passwords() -> None:
    assert redact("postgresql://bob:s3cret@db.example.com:5432/x") == f"postgresql://bob:{MARK}@db.example.com:5432/x"
    assert redact("https://:tok3n@host/path") == f"https://:{MARK}@host/path"
    assert redact("http://127.0.0.1:8080/v1") == "http://127.0.0.1:8080/v1"  # a port is not a password


@pytest.mark.parametrize(
    "text",
    [
        "The quick brown fox jumps over the lazy dog.",
        "a" * 64,
        "cache key " + "0123456789abcdef" * 4,
        str(uuid.UUID(int=2**127 + 12345)),
        "task-" + "1234567890abcdefghij finished; mask_ABCDEFGHIJKLMNOPQRSTUV",  # split: no key-shaped text in the repo
        "max_tokens=16, prompt_tokens: 12, temperature=0.7",
        "sk-learn is a library; risk-free; desk-top",
        "call to openai/stub at http://127.0.0.1:9/v1 failed after 2 attempt(s): connection refused",
        "  at pipelines/qa.py:12 in pipeline",
    ],
    ids=lambda text: f"{len(text)}-chars",  # not the text: test ids land in pytest's cache
)
def test_ordinary_text_hashes_and_uuids_are_untouched(text: str) -> None:
    assert redact(text) == text


@pytest.mark.parametrize("filler", ["ordinary words 0123456789abcdef ", "a.b-", "sk-", "x://a:", "a_"])
def test_redact_is_idempotent_and_linear_on_long_strings(filler: str) -> None:
    """Dots and dashes make a word boundary at every character: an unbounded pattern went quadratic (minutes)."""
    text = filler * (1_000_000 // len(filler)) + " " + SECRETS["openai"] + ' api_key="x"'
    started = time.perf_counter()
    once = redact(text)
    elapsed = time.perf_counter() - started
    assert SECRETS["openai"] not in once and redact(once) == once
    assert elapsed < 3.0, f"redact took {elapsed:.2f}s on {len(text)} characters"


def _raise_with_key() -> None:
    key = SECRETS["openai-project"]
    try:
        {}["missing"]
    except KeyError as inner:
        raise RuntimeError(f"provider said: invalid api key {key}") from inner


def test_describe_exception_has_locations_no_source_and_no_secret() -> None:
    with pytest.raises(RuntimeError) as info:
        _raise_with_key()
    text = describe_exception(info.value)
    lines = text.splitlines()
    assert lines[0] == f"RuntimeError: provider said: invalid api key {MARK}"
    assert any(line.startswith("  at ") and "test_redaction.py:" in line and "in _raise_with_key" in line for line in lines)
    assert "caused by KeyError: 'missing'" in text
    assert "{}[" not in text and "raise RuntimeError" not in text  # no source line
    assert SECRETS["openai-project"] not in text


def test_describe_exception_caps_frames_and_length() -> None:
    def deep(n: int) -> None:
        if n == 0:
            raise ValueError("x" * 10_000)
        deep(n - 1)

    with pytest.raises(ValueError) as info:
        deep(30)
    text = describe_exception(info.value, frames=3)
    assert sum(line.startswith("  at ") for line in text.splitlines()) == 3
    assert len(text) <= MAX_DESCRIPTION
    assert describe_exception(ValueError()) == "ValueError"  # never raised: no frames, no message
