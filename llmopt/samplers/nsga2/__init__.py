"""NSGA-II sampler with mixed-variable operators and generations derived from storage."""

from llmopt.samplers.nsga2.sampler import NSGA2Sampler

__all__ = ["NSGA2Sampler"]
