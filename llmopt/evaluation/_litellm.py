"""The one module that imports litellm: lazily, with the bundled price map, never at `import llmopt`.

litellm fetches its price map from the internet at import unless LITELLM_LOCAL_MODEL_COST_MAP
is set first, and the import takes seconds, so it happens on the first call only.
"""

from __future__ import annotations

import logging
import os
import threading
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
    """One request, no litellm retries (ours handle 429/5xx/timeouts with backoff)."""
    return await litellm().acompletion(model=model, messages=messages, timeout=timeout, num_retries=0, **params)


def completion(model: str, messages: list[dict[str, Any]], timeout: float, **params: Any) -> Any:
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
