"""The one module that imports litellm: lazily, with the bundled price map, never at `import llmopt`.

litellm fetches its price map from the internet at import unless LITELLM_LOCAL_MODEL_COST_MAP
is set first, and the import takes seconds, so it happens on the first call only.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from typing import Any

_lock = threading.Lock()
_module: Any = None


def litellm() -> Any:
    """The litellm module, imported once with the bundled (offline) price map."""
    global _module
    if _module is None:
        with _lock:
            if _module is None:
                os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
                import litellm as lib

                lib.suppress_debug_info = True
                lib.telemetry = False
                for name in ("LiteLLM", "LiteLLM Router", "LiteLLM Proxy", "httpx"):  # one line per call otherwise
                    logging.getLogger(name).setLevel(logging.WARNING)
                _module = lib
    return _module


def forget_clients(api_base: str) -> None:
    """Drop litellm's cached HTTP clients for a server that has stopped (a stub, a local model).

    litellm keeps one client per api_base (and event loop) for 10 minutes, each holding its
    pooled sockets: a server that stops and never comes back on that port would leave them
    open. Dropped clients are closed by litellm's evicted-client closer or the garbage collector.
    """
    if _module is None:  # litellm never imported here: it holds no client
        return
    cache = getattr(_module, "in_memory_llm_clients_cache", None)
    keys = getattr(cache, "cache_dict", None)
    if cache is None or not isinstance(keys, dict):
        return
    for key in [k for k in list(keys) if isinstance(k, str) and f"api_base={api_base}" in k]:
        cache.delete_cache(key)


def version() -> str:
    """The installed litellm version: it dates the bundled price map stored with each study."""
    from importlib.metadata import version as dist_version

    return dist_version("litellm")


def list_price(model: str) -> tuple[float, float] | None:
    """(dollars per prompt token, per completion token) from litellm's bundled map; None if unknown."""
    lib = litellm()
    try:
        info = lib.get_model_info(model)
    except Exception:  # litellm raises several types for unmapped models
        return None
    prompt, completion = info.get("input_cost_per_token"), info.get("output_cost_per_token")
    if prompt is None or completion is None:
        return None
    return float(prompt), float(completion)


async def acompletion(model: str, messages: list[dict[str, Any]], timeout: float, **params: Any) -> Any:
    """One request: no litellm retries and none by the provider's SDK (openai's client retries
    twice by default), so every request sent is an attempt we see, record and may retry."""
    params.setdefault("max_retries", 0)
    return await litellm().acompletion(model=model, messages=messages, timeout=timeout, num_retries=0, **params)


def completion(model: str, messages: list[dict[str, Any]], timeout: float, **params: Any) -> Any:
    params.setdefault("max_retries", 0)
    return litellm().completion(model=model, messages=messages, timeout=timeout, num_retries=0, **params)


def is_retryable(exc: BaseException) -> bool:
    """429, timeouts, connection errors and 5xx are worth retrying; bad requests and auth errors are not."""
    lib = litellm()
    retryable = (
        lib.RateLimitError, lib.Timeout, lib.APIConnectionError, lib.InternalServerError,
        lib.ServiceUnavailableError, lib.BadGatewayError,
    )
    if isinstance(exc, retryable):
        return True
    status = getattr(exc, "status_code", None)
    return isinstance(status, int) and status >= 500


@dataclass(frozen=True)
class Failure:
    """What a failed request means: its name, whether to retry, whether the provider may have billed it."""

    error_class: str
    retryable: bool
    maybe_billed: bool
    refused: bool = False  # nothing listens at the address (or it cannot be reached): retrying rarely helps


# Names of exception classes (in the chain litellm wraps) that say where a request failed; by
# name, so the HTTP clients (httpx, aiohttp) need not be imported here.
_REFUSED = {"ConnectionRefusedError"}
_CONNECT = {"ConnectError", "ClientConnectorError", "ClientConnectorDNSError", "gaierror"}
_CONNECT_TIMEOUT = {"ConnectTimeout", "PoolTimeout", "ConnectionTimeoutError"}
_TIMEOUT = {"Timeout", "APITimeoutError", "ReadTimeout", "WriteTimeout", "TimeoutError", "SocketTimeoutError", "ServerTimeoutError"}
_DROPPED = {"ReadError", "RemoteProtocolError", "ServerDisconnectedError", "ClientPayloadError", "ConnectionResetError",
            "IncompleteRead"}


def chain(exc: BaseException) -> list[BaseException]:
    """`exc` and the exceptions it wraps (__cause__, else __context__), outermost first."""
    out: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(out) < 16:
        seen.add(id(current))
        out.append(current)
        current = current.__cause__ or current.__context__
    return out


def classify(exc: BaseException) -> Failure:
    """Name a failed request by its real cause (litellm labels a refused connection InternalServerError).

    A client-side timeout, or a connection dropped while the answer was awaited, may have been
    completed (and billed) by the provider; a refused connection, a connect timeout, a 429 or a
    5xx answer was not.
    """
    names = {cls.__name__ for e in chain(exc) for cls in type(e).__mro__}
    if names & _REFUSED:
        return Failure("ConnectionRefused", True, False, refused=True)
    if names & _CONNECT_TIMEOUT:
        return Failure("ConnectTimeout", True, False)
    if names & _CONNECT:
        return Failure("ConnectError", True, False, refused=True)
    if names & _TIMEOUT:
        return Failure("Timeout", True, True)
    if names & _DROPPED:
        return Failure("ConnectionDropped", True, True)
    return Failure(type(exc).__name__, is_retryable(exc), False)


def prompt_tokens(model: str, messages: Any) -> int:
    """litellm's count of the prompt's tokens; characters / 4 when it cannot count them."""
    try:
        return int(litellm().token_counter(model=model, messages=messages))
    except Exception:  # unknown models, odd message shapes: the estimate is only for a maybe-billed attempt
        text = messages if isinstance(messages, str) else " ".join(str(m.get("content", "")) if isinstance(m, dict) else str(m)
                                                                     for m in (messages or []))
        return max(1, len(text) // 4)


def register_callback(handler: Any) -> None:
    """Add a CustomLogger to litellm.callbacks once, so calls made by other routes (DSPy) are metered."""
    lib = litellm()
    if handler not in lib.callbacks:
        lib.callbacks.append(handler)


def custom_logger_base() -> type:
    from litellm.integrations.custom_logger import CustomLogger

    litellm()
    return CustomLogger


def usage_of(response: Any) -> tuple[int, int]:
    usage = getattr(response, "usage", None)
    if usage is None:
        return 0, 0
    return int(getattr(usage, "prompt_tokens", 0) or 0), int(getattr(usage, "completion_tokens", 0) or 0)


def text_of(response: Any) -> str:
    choices = getattr(response, "choices", None) or []
    if not choices:
        return ""
    message = getattr(choices[0], "message", None)
    return (getattr(message, "content", None) or "") if message is not None else ""
