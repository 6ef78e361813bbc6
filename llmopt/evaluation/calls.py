"""The call helpers pipelines use: `await acomplete(...)` / `complete(...)`, metered, cached, limited, retried.

Inside a study every call is attributed to the example being scored: tokens, list-price cost,
billed cost (0 on a cache hit), latency and errors. Outside a study they are plain calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from llmopt.errors import EvaluationError
from llmopt.evaluation import _litellm
from llmopt.evaluation.budget import BudgetExhausted, CallsStopped
from llmopt.evaluation.env import CallEnv
from llmopt.evaluation.pricing import Price
from llmopt.evaluation.scope import ExampleScope, current_example, enter_example, leave_example
from llmopt.redaction import redact
from llmopt.trial import CallRecord


@dataclass(frozen=True)
class Completion:
    """A call's result: the text and what it cost (list price; `billed` is 0.0 on a cache hit)."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    cost: float
    billed: float
    latency: float
    cache_hit: bool
    response: Any = None


def preload() -> None:
    """Import litellm (a few seconds) before the first call, so that trial 0's latency does not include it."""
    _litellm.litellm()


class LLMCallError(EvaluationError):
    """A call that failed for good (after retries where retrying made sense); `original` is litellm's error.

    The message names the real cause (a refused connection, a timeout...), redacted of secrets;
    the hint says where to look.
    """

    def __init__(self, model: str, api_base: str | None, attempts: int, original: BaseException,
                 failure: _litellm.Failure | None = None) -> None:
        self.model, self.api_base, self.attempts, self.original = model, api_base, attempts, original
        self.failure = failure or _litellm.classify(original)
        super().__init__(describe_failure(model, api_base, attempts, original, self.failure),
                         "check the model name, api_base and key; `llmopt show STUDY TRIAL` lists every attempt")


def cache_key(model: str, messages: Any, params: dict[str, Any], sample: int) -> str:
    """Hash of everything that changes the answer: model, messages, every parameter, sample index.

    The SHA-256 of the sorted, compact JSON of {model, messages, params, sample}: keys are stored
    with the study, so this must not change between versions.
    """
    return _with_sample(_request_json(model, messages, params), sample)


def _request_json(model: str, messages: Any, params: dict[str, Any]) -> str:
    """The key's JSON without the sample index ("sample" sorts last) and its closing brace.

    It also identifies identical requests within an example (to number their samples).
    """
    payload = json.dumps({"model": model, "messages": messages, "params": params},
                         sort_keys=True, separators=(",", ":"), default=str)
    return payload[:-1]


def _with_sample(request: str, sample: int) -> str:
    return hashlib.sha256(f"{request},\"sample\":{json.dumps(sample, default=str)}}}".encode()).hexdigest()


async def acomplete(
    model: str, messages: list[dict[str, Any]] | str, *, sample: int | None = None, cache: bool = True, **params: Any
) -> Completion:
    """Call `model` with chat `messages` (a string is one user message) and litellm `params`.

    `sample` distinguishes repeated draws of the same request (defaults to how many identical
    requests this example made before), so k samples at temperature > 0 are k cache entries.
    """
    if isinstance(messages, str):
        messages = [{"role": "user", "content": messages}]
    scope = current_example()
    if scope is None:
        return await _plain_call(model, messages, params)
    request = _request_json(model, messages, params)
    index = scope.next_occurrence(request) if sample is None else sample
    key = _with_sample(request, index)
    if cache:
        hit = _cached(scope, key)
        if hit is not None:
            return _from_cache(scope, model, hit)
    return await _metered_call(scope, model, messages, params, key if cache else None)


def complete(model: str, messages: list[dict[str, Any]] | str, *, sample: int | None = None, cache: bool = True, **params: Any) -> Completion:
    """Sync twin of `acomplete` for sync pipelines (which the study runs in worker threads)."""
    scope = current_example()
    if scope is None:
        if isinstance(messages, str):
            messages = [{"role": "user", "content": messages}]
        return _plain_sync_call(model, messages, params)
    loop = scope.env.loop
    try:
        running: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        raise EvaluationError(
            "complete() was called from an async pipeline, inside the study's event loop",
            "use `await acomplete(...)` in async pipelines",
        )
    future = asyncio.run_coroutine_threadsafe(_in_scope(scope, acomplete(model, messages, sample=sample, cache=cache, **params)), loop)
    return future.result()


async def _in_scope(scope: ExampleScope, coro: Any) -> Any:
    token = enter_example(scope)
    try:
        return await coro
    finally:
        leave_example(token)


def _cached(scope: ExampleScope, key: str) -> dict[str, Any] | None:
    if scope.env.cache_lookup is None:
        return None
    text = scope.cache_entries.get(key) or scope.env.cache_lookup(key)
    return None if text is None else json.loads(text)


def _from_cache(scope: ExampleScope, model: str, hit: dict[str, Any]) -> Completion:
    started = time.perf_counter()
    price = scope.env.prices.require(model)
    pt, ct, latency = int(hit["prompt_tokens"]), int(hit["completion_tokens"]), float(hit["latency"])
    cost = price.cost(pt, ct, latency)
    scope.add_call(CallRecord(model, pt, ct, cost, 0.0, latency, True, None, scope.example_id))
    with scope.lock:
        scope.latency_credit += max(0.0, latency - (time.perf_counter() - started))
    return Completion(hit["text"], model, pt, ct, cost, 0.0, latency, True)


async def _metered_call(
    scope: ExampleScope, model: str, messages: list[dict[str, Any]], params: dict[str, Any], key: str | None
) -> Completion:
    """Send the request, retrying where that makes sense; every attempt becomes a CallRecord."""
    env = scope.env
    price = env.prices.require(model)
    env.budget.check()
    _check_trial_budget(scope)
    params = dict(params)
    timeout = float(params.pop("timeout", env.retry.timeout))
    api_base = params.get("api_base")
    attempt = 0
    while True:
        attempt += 1
        waited_from = time.perf_counter()
        model_slot, rate = env.slots.for_model(model), env.slots.rate_for(model)
        async with env.slots.overall:
            if model_slot is not None:
                await model_slot.acquire()
            if rate is not None:
                await rate.wait()
            try:
                _check_can_start(scope)  # again: the budget may have run out, or Ctrl-C come, while it waited
                started = time.perf_counter()
                with scope.lock:
                    scope.waited += started - waited_from
                call_id = f"llmopt-{uuid.uuid4().hex}"
                env.own_call_ids.add(call_id)
                try:
                    response = await _litellm.acompletion(model, messages, timeout, litellm_call_id=call_id, **params)
                    error: BaseException | None = None
                except Exception as exc:  # classified below: retry, or record and raise
                    response, error = None, exc
                finally:
                    env.own_call_ids.discard(call_id)
                latency = time.perf_counter() - started
            finally:
                if model_slot is not None:
                    model_slot.release()
        if error is None:
            break
        failure = _litellm.classify(error)
        pause = _retry_pause(env, failure, attempt)
        final = pause is None
        text = describe_failure(model, api_base, attempt, error, failure)
        await _record_failure(scope, model, messages, params, price, latency, failure, attempt, final, text)
        if final:
            raise LLMCallError(model, api_base, attempt, error, failure) from error
        await asyncio.sleep(pause)
        with scope.lock:
            scope.waited += pause
    pt, ct = _litellm.usage_of(response)
    text = _litellm.text_of(response)
    cost = price.cost(pt, ct, latency)
    env.answered(model, ct)
    scope.add_call(CallRecord(model, pt, ct, cost, cost, latency, False, None, scope.example_id, attempt=attempt))
    if key is not None and env.cache_lookup is not None:
        entry = {"text": text, "prompt_tokens": pt, "completion_tokens": ct, "latency": latency}
        with scope.lock:
            scope.cache_entries[key] = json.dumps(entry)
    return Completion(text, model, pt, ct, cost, cost, latency, False, response)


#: A refused connection is retried once, this soon: a server that is starting may be up by then,
#: one that is not running will not be in 20 seconds of backoff either.
REFUSED_RETRY_DELAY = 0.2


def _retry_pause(env: CallEnv, failure: _litellm.Failure, attempt: int) -> float | None:
    """Seconds to wait before the next attempt, or None when `attempt` was the last."""
    if not failure.retryable or attempt > env.retry.max_retries:
        return None
    if failure.refused:
        return REFUSED_RETRY_DELAY if attempt == 1 else None
    return env.retry.delay(attempt, random.random())


async def _record_failure(
    scope: ExampleScope, model: str, messages: Any, params: dict[str, Any], price: Price, latency: float,
    failure: _litellm.Failure, attempt: int, final: bool, text: str,
) -> None:
    """Store the failed attempt; one that may have been billed counts at its expected price."""
    pt = ct = 0
    billed = 0.0
    if failure.maybe_billed:
        pt, ct = await asyncio.to_thread(expected_tokens, scope.env, model, messages, params)
        billed = price.cost(pt, ct, latency)
    scope.add_call(CallRecord(
        model, pt, ct, 0.0, billed, latency, False, text, scope.example_id,
        status="failed" if final else "retried", error_class=failure.error_class, attempt=attempt,
        maybe_billed=failure.maybe_billed,
    ))


#: Completion tokens assumed for a timed-out request when neither its max_tokens nor an answered
#: call of the same model in this run says how long answers are.
DEFAULT_COMPLETION_TOKENS = 256


def expected_tokens(env: CallEnv, model: str, messages: Any, params: dict[str, Any]) -> tuple[int, int]:
    """(prompt, completion) tokens a request that may have been billed is assumed to have used.

    Prompt: litellm's token count of the messages (characters / 4 if it cannot). Completion: the
    request's max_tokens, else the mean of this model's answered calls in this run, else
    DEFAULT_COMPLETION_TOKENS. An estimate, marked maybe_billed, never an invoice.
    """
    prompt = _litellm.prompt_tokens(model, messages)
    limit = params.get("max_tokens", params.get("max_completion_tokens"))
    if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0:
        return prompt, limit
    mean = env.mean_completion(model)
    return prompt, DEFAULT_COMPLETION_TOKENS if mean is None else max(1, round(mean))


def describe_failure(model: str, api_base: str | None, attempt: int, error: BaseException, failure: _litellm.Failure) -> str:
    """The stored text of a failed attempt: its real cause first, without secrets."""
    where = f" at {api_base}" if api_base else ""
    if failure.error_class == "ConnectionRefused":
        cause = f"connection refused{where}: is the server running?"
    elif failure.error_class == "ConnectError":
        cause = f"cannot connect{f' to {api_base}' if api_base else ''}: {_innermost(error)}"
    elif failure.error_class == "Timeout":
        cause = f"Timeout: no answer{where} in time (the provider may still complete and bill it)"
    else:
        cause = f"{type(error).__name__}: {' '.join(str(error).split())[:1500]}"
    return redact(f"call to {model}{where} failed after {attempt} attempt(s): {cause}")[:2000]


def _innermost(error: BaseException) -> str:
    last = _litellm.chain(error)[-1]
    return f"{type(last).__name__}: {' '.join(str(last).split())[:300]}"


def _check_can_start(scope: ExampleScope) -> None:
    if scope.env.interrupt.is_set():
        raise CallsStopped("interrupt", "interrupted (Ctrl-C): no new call starts")
    scope.env.budget.check()
    _check_trial_budget(scope)


def _check_trial_budget(scope: ExampleScope) -> None:
    trial = scope.trial
    if trial.budget is not None and trial.billed >= trial.budget:
        raise BudgetExhausted("per-trial", trial.billed, trial.budget)


async def _plain_call(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
    timeout = float(params.pop("timeout", 60.0))
    started = time.perf_counter()
    response = await _litellm.acompletion(model, messages, timeout, **params)
    return _plain_result(model, response, time.perf_counter() - started)


def _plain_sync_call(model: str, messages: list[dict[str, Any]], params: dict[str, Any]) -> Completion:
    timeout = float(params.pop("timeout", 60.0))
    started = time.perf_counter()
    response = _litellm.completion(model, messages, timeout, **params)
    return _plain_result(model, response, time.perf_counter() - started)


def _plain_result(model: str, response: Any, latency: float) -> Completion:
    pt, ct = _litellm.usage_of(response)
    found = _litellm.list_price(model)
    cost = 0.0 if found is None else pt * found[0] + ct * found[1]
    return Completion(_litellm.text_of(response), model, pt, ct, cost, cost, latency, False, response)
