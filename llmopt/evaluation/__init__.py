"""Evaluation: score pipelines on datasets with metered, cached, concurrent LLM calls (litellm, lazily)."""

from llmopt.evaluation.budget import BudgetExhausted
from llmopt.evaluation.calls import Completion, LLMCallError, acomplete, complete
from llmopt.evaluation.dataset import Dataset, Example
from llmopt.evaluation.evaluation import Evaluation
from llmopt.evaluation.limits import Limits, RetryPolicy
from llmopt.evaluation.measures import MEASURES, Measure
from llmopt.evaluation.metrics import METRICS, contains, exact_match, normalized_exact_match, numeric_match, token_f1
from llmopt.evaluation.pricing import Price

__all__ = [
    "BudgetExhausted", "Completion", "Dataset", "Evaluation", "Example", "LLMCallError", "Limits", "MEASURES", "METRICS", "Measure",
    "Price", "RetryPolicy", "acomplete", "complete", "contains", "exact_match", "normalized_exact_match",
    "numeric_match", "token_f1",
]
