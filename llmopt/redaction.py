"""Redaction of secrets (API keys, Authorization headers, URL passwords) from strings llmopt stores or logs.

A leaf module (standard library only), so storage, evaluation and the study can all use it.
Error text is stored in the database and shown by the CLI: a key written in a pipeline's
source or echoed in a provider's error must never end up there.

>>> redact('complete(m, q, api_key="k-123")')
'complete(m, q, api_key="[REDACTED]")'
>>> redact("postgresql://bob:hunter2@db/x")
'postgresql://bob:[REDACTED]@db/x'
>>> redact("cache key " + "ab" * 32) == "cache key " + "ab" * 32
True
"""

from __future__ import annotations

import os
import re
import traceback

MARK = "[REDACTED]"

#: Longest text describe_exception returns (the examples table stores error text per example).
MAX_DESCRIPTION = 4000

_VALUE = r"[A-Za-z0-9_\-]"
# Provider key shapes. The look-behind keeps "task-..." or "mask_..." from matching.
_KEYS = re.compile(
    r"(?<![A-Za-z0-9_\-])(?:"
    rf"sk-(?:ant-|proj-|or-)?{_VALUE}{{16,}}"  # OpenAI, Anthropic, OpenRouter
    r"|gsk_[A-Za-z0-9]{20,}"  # Groq
    r"|xai-[A-Za-z0-9]{20,}"  # xAI
    r"|hf_[A-Za-z0-9]{20,}"  # Hugging Face
    r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}"  # GitHub
    r"|AIza[0-9A-Za-z_\-]{30,}"  # Google
    r"|(?:AKIA|ASIA)[0-9A-Z]{16}"  # AWS access key id
    r")"
)
# `api_key="..."`, `"api_key": "..."`, `x-api-key: ...`, `OPENAI_API_KEY=...`, `password=...`: the name
# stays, the value goes. A prefix (`openai_`, `db-`) is allowed, except before a bare "token"
# (prompt_token=12 is no secret) unless written as an environment variable (HF_TOKEN=...).
_NAMES = (
    r"(?:[A-Za-z0-9]+[-_])*(?:api[-_]?key|apikey|api[-_]?token|access[-_]?token|auth[-_]?token|refresh[-_]?token"
    r"|secret[-_]?key|access[-_]?key|client[-_]?secret|secret|password|passwd)"
    r"|token|(?-i:[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*_TOKEN)"
)
_ASSIGNED = re.compile(
    rf"(?i)(?<![A-Za-z0-9_\-])((?:{_NAMES})[\"']?\s*[:=]\s*)([\"']?)(?![\"']|\[REDACTED\])([^\s\"',;)}}\]]+)"
)
# `Authorization: Bearer ...` (whole value), and a bare `Bearer <token>` that is not an ordinary word.
_AUTHORIZATION = re.compile(r"(?i)(\b(?:proxy-)?authorization[\"']?\s*[:=]\s*[\"']?)(?:(bearer|basic|token)\s+)?([^\s\"',;]+)")
_BEARER = re.compile(r"(?i)(\bbearer\s+)(?![a-z]+\b)(?!\[REDACTED\])[A-Za-z0-9._~+/\-]{8,}=*")
# scheme://user:password@host
# (bounded parts: scanning stays linear on long strings full of dots and dashes)
_URL_PASSWORD = re.compile(r"(?i)(\b[a-z][a-z0-9+.\-]{0,31}://[^\s:/@]{0,256}:)([^\s@/]{1,512})(@)")


def redact(text: str) -> str:
    """`text` with anything that looks like a secret replaced by "[REDACTED]"."""
    if not text:
        return text
    text = _URL_PASSWORD.sub(rf"\1{MARK}\3", text)
    text = _AUTHORIZATION.sub(_authorization, text)
    text = _BEARER.sub(rf"\1{MARK}", text)
    text = _ASSIGNED.sub(rf"\1\2{MARK}", text)
    return _KEYS.sub(MARK, text)


def _authorization(match: re.Match[str]) -> str:
    scheme = f"{match.group(2)} " if match.group(2) else ""
    return f"{match.group(1)}{scheme}{MARK}"


def describe_exception(exc: BaseException, frames: int = 6) -> str:
    """"Type: message", then up to `frames` innermost frames as "  at file:LINE in func" (the
    caller's own code first, see _chosen), then one line per chained cause; no source text (a
    source line may hold a key), redacted, capped at MAX_DESCRIPTION characters."""
    lines = [_headline(exc, 2000)]
    for frame in _chosen(_frames(exc), frames):
        lines.append(f"  at {_where(frame)}")
    seen = {id(exc)}
    cause = _next(exc)
    while cause is not None and id(cause) not in seen and len(seen) < 8:
        seen.add(id(cause))
        inner = _frames(cause)
        at = f" (at {_where(inner[-1])})" if inner else ""
        lines.append(f"  caused by {_headline(cause, 300)}{at}")
        cause = _next(cause)
    return redact("\n".join(lines))[:MAX_DESCRIPTION]


def _chosen(stack: list[traceback.FrameSummary], frames: int) -> list[traceback.FrameSummary]:
    """The innermost `frames` frames of the caller's own code (not the standard library's, not
    llmopt's: the pipeline's line is what a user needs), plus the frame that raised; in order."""
    if frames <= 0 or not stack:
        return []
    own = [i for i, frame in enumerate(stack) if not _is_machinery(frame.filename)]
    keep = set(own[-frames:]) if own else set(range(len(stack))[-frames:])
    keep.add(len(stack) - 1)
    return [stack[i] for i in sorted(keep)][-frames:]


_LLMOPT = os.path.dirname(os.path.abspath(__file__)) + os.sep
_STDLIB = os.path.dirname(os.path.abspath(os.__file__)) + os.sep


def _is_machinery(path: str) -> bool:
    path = os.path.abspath(path)
    return path.startswith(_LLMOPT) or (path.startswith(_STDLIB) and "site-packages" not in path)


def _headline(exc: BaseException, limit: int) -> str:
    message = " ".join(str(exc).split())  # one line: a multi-line message would read as frames
    name = type(exc).__name__
    return f"{name}: {message[:limit]}" if message else name


def _frames(exc: BaseException) -> list[traceback.FrameSummary]:
    if exc.__traceback__ is None:
        return []
    return list(traceback.StackSummary.extract(traceback.walk_tb(exc.__traceback__), lookup_lines=False))


def _where(frame: traceback.FrameSummary) -> str:
    return f"{_short_path(frame.filename)}:{frame.lineno} in {frame.name}"


def _short_path(path: str) -> str:
    """Relative to the working directory when under it, else from site-packages on, else as is."""
    try:
        relative = os.path.relpath(path)
    except ValueError:  # another drive (Windows)
        relative = path
    if not relative.startswith(".."):
        return relative
    marker = "site-packages" + os.sep
    return path.split(marker, 1)[1] if marker in path else path


def _next(exc: BaseException) -> BaseException | None:
    if exc.__cause__ is not None:
        return exc.__cause__
    return None if exc.__suppress_context__ else exc.__context__


__all__ = ["MARK", "describe_exception", "redact"]
