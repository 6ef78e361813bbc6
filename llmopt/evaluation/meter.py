"""A litellm callback that meters calls made by other routes (e.g. DSPy calling litellm itself).

Calls made through `acomplete`/`complete` carry an `llmopt-` call id and are skipped here
(they are metered where they are made); every other litellm call made while an example is
being scored is attributed to that example: tokens, price, latency, errors.
"""

from __future__ import annotations

import threading
from typing import Any

from llmopt.evaluation import _litellm
from llmopt.evaluation.calls import expected_tokens
from llmopt.evaluation.scope import ExampleScope, current_example
from llmopt.redaction import redact
from llmopt.trial import CallRecord

_installed: Any = None
_install_lock = threading.Lock()


def install_meter() -> Any:
    """Register the metering callback with litellm once per process; returns it."""
    global _installed
    with _install_lock:
        if _installed is None:
            _installed = _make_meter_class()()
            _litellm.register_callback(_installed)
    return _installed


def _make_meter_class() -> type:
    base = _litellm.custom_logger_base()

    class LiteLLMMeter(base):  # type: ignore[misc, valid-type]
        """Attributes foreign litellm calls to the example being scored when they started."""

        def __init__(self) -> None:
            super().__init__()
            self.pending: dict[str, ExampleScope] = {}
            self.lock = threading.Lock()

        def _remember(self, kwargs: dict[str, Any]) -> None:
            call_id = str(kwargs.get("litellm_call_id") or "")
            scope = current_example()
            if scope is not None and call_id and not call_id.startswith("llmopt-"):
                with self.lock:
                    if call_id in self.pending:
                        return
                    self.pending[call_id] = scope
                    scope.foreign_pending.add(call_id)

        def _scope_of(self, kwargs: dict[str, Any]) -> ExampleScope | None:
            call_id = str(kwargs.get("litellm_call_id") or "")
            if call_id.startswith("llmopt-"):
                return None
            with self.lock:
                scope = self.pending.pop(call_id, None)
            return scope or current_example()

        def _done(self, kwargs: dict[str, Any], scope: ExampleScope) -> None:
            with self.lock:
                scope.foreign_pending.discard(str(kwargs.get("litellm_call_id") or ""))

        def log_pre_api_call(self, model: Any, messages: Any, kwargs: dict[str, Any]) -> None:
            self._remember(kwargs)

        async def async_log_pre_api_call(self, model: Any, messages: Any, kwargs: dict[str, Any]) -> None:
            self._remember(kwargs)

        def log_success_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
            self._record(kwargs, response_obj, start_time, end_time, None)

        async def async_log_success_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
            self._record(kwargs, response_obj, start_time, end_time, None)

        def log_failure_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
            self._record(kwargs, None, start_time, end_time, kwargs.get("exception"))

        async def async_log_failure_event(self, kwargs: dict[str, Any], response_obj: Any, start_time: Any, end_time: Any) -> None:
            self._record(kwargs, None, start_time, end_time, kwargs.get("exception"))

        def _record(self, kwargs: dict[str, Any], response: Any, start: Any, end: Any, error: Any) -> None:
            scope = self._scope_of(kwargs)
            if scope is None:
                return
            try:
                self._add(scope, kwargs, response, start, end, error)
            finally:
                self._done(kwargs, scope)

        def _add(self, scope: ExampleScope, kwargs: dict[str, Any], response: Any, start: Any, end: Any, error: Any) -> None:
            model = str(kwargs.get("model") or "unknown")
            provider = (kwargs.get("litellm_params") or {}).get("custom_llm_provider")
            latency = _seconds(start, end)
            price = scope.env.prices.price(model) or (scope.env.prices.price(f"{provider}/{model}") if provider else None)
            if error is not None or response is None:
                scope.add_call(self._failed(scope, kwargs, model, price, latency, error))
                return
            pt, ct = _litellm.usage_of(response)
            cost = price.cost(pt, ct, latency) if price else float(kwargs.get("response_cost") or 0.0)
            cache_hit = bool(kwargs.get("cache_hit"))
            scope.add_call(CallRecord(model, pt, ct, cost, 0.0 if cache_hit else cost, latency, cache_hit, None, scope.example_id))

        def _failed(self, scope: ExampleScope, kwargs: dict[str, Any], model: str, price: Any, latency: float,
                    error: Any) -> CallRecord:
            """A failed foreign attempt (its route's retries are its own): one that may have been
            billed counts at its expected price, as our own calls do."""
            if not isinstance(error, BaseException):
                return CallRecord(model, 0, 0, 0.0, 0.0, latency, False, "failed", scope.example_id, status="failed")
            failure = _litellm.classify(error)
            pt = ct = 0
            billed = 0.0
            if failure.maybe_billed and price is not None:
                params = {**(kwargs.get("optional_params") or {}), **{k: kwargs[k] for k in ("max_tokens",) if k in kwargs}}
                pt, ct = expected_tokens(scope.env, model, kwargs.get("messages") or [], params)
                billed = price.cost(pt, ct, latency)
            text = redact(f"{failure.error_class}: {' '.join(str(error).split())}")[:2000]
            return CallRecord(model, pt, ct, 0.0, billed, latency, False, text, scope.example_id, status="failed",
                              error_class=failure.error_class, maybe_billed=failure.maybe_billed)

    return LiteLLMMeter


def _seconds(start: Any, end: Any) -> float:
    try:
        return max(0.0, (end - start).total_seconds())
    except (TypeError, AttributeError):
        try:
            return max(0.0, float(end) - float(start))
        except (TypeError, ValueError):
            return 0.0


__all__ = ["install_meter"]
