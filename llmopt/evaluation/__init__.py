"""Evaluation: score pipelines on datasets with metered, cached, concurrent LLM calls (litellm, lazily)."""

from llmopt.evaluation.budget import BudgetExhausted
from llmopt.evaluation.calls import Completion, LLMCallError, acomplete, complete
from llmopt.evaluation.dataset import Dataset, Example
from llmopt.evaluation.evaluation import Evaluation
from llmopt.evaluation.limits import Limits, RetryPolicy
from llmopt.evaluation.local_server import LocalModelServer
from llmopt.evaluation.measures import MEASURES, Measure
from llmopt.evaluation.metrics import METRICS, contains, exact_match, normalized_exact_match, numeric_match, token_f1
from llmopt.evaluation.pricing import Price
from llmopt.evaluation.stub_server import StubLLMServer

__all__ = [
    "BudgetExhausted", "Completion", "Dataset", "Evaluation", "Example", "LLMCallError", "Limits", "LocalModelServer", "MEASURES", "METRICS", "Measure",
    "Price", "RetryPolicy", "StubLLMServer", "acomplete", "complete", "contains", "exact_match", "normalized_exact_match",
    "numeric_match", "token_f1",
]
