"""Trial: the live handle an objective function receives (configuration, number, per-example records)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmopt.space import Config
from llmopt.trial import ExampleResult

if TYPE_CHECKING:
    from llmopt.study.study import Study


class Trial:
    """One running trial of a study: read its `config`, record per-example results, then `tell`.

    >>> study = create_study("t", Space({"temperature": FloatVar(0, 1)}), {"accuracy": "maximize"}, storage=":memory:")
    >>> trial = study.ask()
    >>> 0 <= trial.config["temperature"] <= 1
    True
    >>> trial.record_example("q1", {"accuracy": 1.0}, cost=0.0004, latency=0.8).example_id
    'q1'
    >>> study.tell(trial, 1.0).state.value
    'COMPLETE'
    """

    def __init__(self, study: Study, trial_id: int, number: int, config: Config) -> None:
        self.study = study
        self.trial_id = trial_id
        self.number = number
        self.config = config

    def __repr__(self) -> str:
        return f"Trial(number={self.number}, config={self.config.to_dict()!r})"

    @property
    def params(self) -> dict[str, Any]:
        """The flat configuration as a plain dict."""
        return self.config.to_dict()

    def record_example(
        self,
        example_id: str,
        metrics: dict[str, float] | None = None,
        *,
        cost: float | None = None,
        latency: float | None = None,
        prompt_tokens: int | None = None,
        completion_tokens: int | None = None,
        error: str | None = None,
    ) -> ExampleResult:
        """Store one scored example now, so a crash loses at most the examples in flight."""
        result = ExampleResult(
            example_id=str(example_id), metrics=dict(metrics or {}), cost=cost, latency=latency,
            prompt_tokens=prompt_tokens, completion_tokens=completion_tokens, error=error,
        )
        self.study.storage.add_example_result(self.trial_id, result)
        return result

    def examples(self) -> list[ExampleResult]:
        """Examples already recorded, including by an earlier attempt of this trial (resume from them)."""
        return self.study.storage.get_example_results(self.trial_id)

    def set_user_attr(self, key: str, value: Any) -> None:
        """Attach a JSON-serialisable note to the trial (shown by `llmopt trials`)."""
        self.study.storage.set_trial_user_attr(self.trial_id, key, value)
