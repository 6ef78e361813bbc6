"""Orchestration: create or reopen studies, run trials, read the front."""

from llmopt.study.live_trial import Trial
from llmopt.study.study import Study, create_study, delete_study, load_study

__all__ = ["Study", "Trial", "create_study", "delete_study", "load_study"]
