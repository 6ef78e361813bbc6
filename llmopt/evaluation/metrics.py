"""Built-in per-example metrics: each takes (prediction, expected) and returns a score in [0, 1].

>>> exact_match("Paris", "Paris"), normalized_exact_match(" the Paris. ", "paris")
(1.0, 1.0)
>>> numeric_match("The answer is 1,234.0", "1234"), contains("It is Paris, France", "paris")
(1.0, 1.0)
>>> round(token_f1("the cat sat", "a cat sat down"), 3)
0.8
"""

from __future__ import annotations

import math
import re
import string
from collections import Counter
from collections.abc import Callable
from typing import Any

Metric = Callable[[Any, Any], float]

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_NUMBER = re.compile(r"-?\d[\d,]*\.?\d*(?:[eE][-+]?\d+)?|-?\.\d+")


def normalize(text: Any) -> str:
    """Lower case, no punctuation, no articles, single spaces (the SQuAD normalisation)."""
    text = str(text).lower()
    text = "".join(ch for ch in text if ch not in string.punctuation)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: Any, expected: Any) -> float:
    return float(str(prediction).strip() == str(expected).strip())


def normalized_exact_match(prediction: Any, expected: Any) -> float:
    return float(normalize(prediction) == normalize(expected))


def contains(prediction: Any, expected: Any) -> float:
    """1 when the normalised expected answer appears in the normalised prediction."""
    want = normalize(expected)
    return float(bool(want) and f" {want} " in f" {normalize(prediction)} ")


def _last_number(text: Any) -> float | None:
    found = _NUMBER.findall(str(text))
    if not found:
        return None
    try:
        return float(found[-1].replace(",", ""))
    except ValueError:
        return None


def numeric_match(prediction: Any, expected: Any, tolerance: float = 1e-6) -> float:
    """Compare the last number in the prediction with the expected number (relative tolerance)."""
    got, want = _last_number(prediction), _last_number(expected)
    if got is None or want is None:
        return 0.0
    return float(math.isclose(got, want, rel_tol=tolerance, abs_tol=tolerance))


def token_f1(prediction: Any, expected: Any) -> float:
    """Harmonic mean of token precision and recall after normalisation."""
    got, want = normalize(prediction).split(), normalize(expected).split()
    if not got or not want:
        return float(got == want)
    common = sum((Counter(got) & Counter(want)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(got), common / len(want)
    return 2 * precision * recall / (precision + recall)


METRICS: dict[str, Metric] = {
    "exact_match": exact_match,
    "normalized_exact_match": normalized_exact_match,
    "numeric_match": numeric_match,
    "contains": contains,
    "token_f1": token_f1,
}
