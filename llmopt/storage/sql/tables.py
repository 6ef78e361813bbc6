"""The database schema (SQLAlchemy Core tables) and its version number."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

#: Bump on every schema change, with a migration in migrations.py.
SCHEMA_VERSION = 3

metadata = MetaData()

meta = Table(
    "llmopt_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

studies = Table(
    "llmopt_studies",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(512), nullable=False, unique=True),
    Column("space_json", Text, nullable=False),
    Column("objectives_json", Text, nullable=False),
    Column("sampler_json", Text, nullable=False),
    Column("settings_json", Text, nullable=False),
    Column("user_attrs_json", Text, nullable=False, default="{}"),
    Column("system_attrs_json", Text, nullable=False, default="{}"),  # v2: status, budget, price-map revision
    Column("seed", BigInteger, nullable=False),
    Column("created_at", Float, nullable=False),
    # Counters advanced under the study row's lock: trial numbers and sampler draws stay unique.
    Column("next_number", Integer, nullable=False, default=0),
    Column("next_sample", Integer, nullable=False, default=0),
)

trials = Table(
    "llmopt_trials",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("llmopt_studies.id"), nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("params_json", Text),
    Column("fingerprint", String(32)),
    Column("values_json", Text),
    Column("error", Text),
    Column("sample_index", Integer),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", Float, nullable=False),
    Column("started_at", Float),
    Column("finished_at", Float),
    Column("heartbeat_at", Float),
    Column("user_attrs_json", Text, nullable=False, default="{}"),
    Column("system_attrs_json", Text, nullable=False, default="{}"),
    UniqueConstraint("study_id", "number", name="uq_llmopt_trials_number"),
    Index("ix_llmopt_trials_study_state", "study_id", "state"),
)

examples = Table(
    "llmopt_examples",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trial_id", Integer, ForeignKey("llmopt_trials.id"), nullable=False),
    Column("example_id", String(512), nullable=False),
    Column("metrics_json", Text, nullable=False),
    Column("cost", Float),
    Column("latency", Float),
    Column("prompt_tokens", Integer),
    Column("completion_tokens", Integer),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    # v2: what was paid (0 on cache hits; `cost` is the true price), the pipeline's output, call counts.
    Column("billed_cost", Float),
    Column("output", Text),
    Column("n_calls", Integer),
    Column("cache_hits", Integer),
    UniqueConstraint("trial_id", "example_id", name="uq_llmopt_examples_trial_example"),
)

# v2: one row per LLM call, written with its example; sums give a study's spend for budgets.
calls = Table(
    "llmopt_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("study_id", Integer, ForeignKey("llmopt_studies.id"), nullable=False),
    Column("trial_id", Integer, ForeignKey("llmopt_trials.id"), nullable=False),
    Column("example_id", String(512)),
    Column("model", String(256), nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost", Float, nullable=False),
    Column("billed_cost", Float, nullable=False),
    Column("latency", Float, nullable=False),
    Column("cache_hit", Integer, nullable=False),
    Column("error", Text),
    Column("created_at", Float, nullable=False),
    # v3: every attempt is a row (see CallRecord): "ok", "retried" or "failed"; what failed; may it be billed.
    Column("status", String(16), nullable=False, default="ok"),
    Column("error_class", String(64)),
    Column("attempt", Integer, nullable=False, default=1),
    Column("maybe_billed", Integer, nullable=False, default=0),
    Index("ix_llmopt_calls_study", "study_id"),
    Index("ix_llmopt_calls_trial", "trial_id"),
)

# v2: the study's LLM call cache (key = hash of model, messages, sampling parameters and sample index).
cache = Table(
    "llmopt_cache",
    metadata,
    Column("study_id", Integer, ForeignKey("llmopt_studies.id"), primary_key=True),
    Column("key", String(64), primary_key=True),
    Column("response_json", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)

claims = Table(
    "llmopt_claims",
    metadata,
    Column("study_id", Integer, ForeignKey("llmopt_studies.id"), primary_key=True),
    Column("fingerprint", String(32), primary_key=True),
    Column("trial_id", Integer, ForeignKey("llmopt_trials.id"), nullable=False),
)
