"""Gaussian-process sampler with Thompson sampling (one or more objectives, conditional spaces)."""

from llmopt.samplers.gp.sampler import GPSampler

__all__ = ["GPSampler"]
