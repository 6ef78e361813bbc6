"""Tree-structured Parzen estimator sampler (one or more objectives, conditional spaces)."""

from llmopt.samplers.tpe.sampler import TPESampler

__all__ = ["TPESampler"]
