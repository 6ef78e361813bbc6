"""Study: create or reopen a stored study, ask/tell trials, and read its Pareto front.

>>> from llmopt import FloatVar, Space, create_study
>>> study = create_study("doc", Space({"x": FloatVar(0, 1)}), {"y": "minimize"}, storage=":memory:", seed=0)
>>> study.optimize(lambda trial: (trial.config["x"] - 0.3) ** 2, n_trials=20)
>>> abs(study.best_trial.params["x"] - 0.3) < 0.1
True
"""

from __future__ import annotations

import json
import logging
import math
import os
import secrets
import time
import weakref
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from llmopt.errors import DuplicateStudyError, SpaceExhaustedError, StorageError, StudyError
from llmopt.progress import ProgressLine
from llmopt.redaction import describe_exception
from llmopt.samplers import Sampler, default_sampler, sampler_from_dict
from llmopt.samplers.draw import draw_feasible
from llmopt.samplers.grid import finite_size
from llmopt.evaluation.evaluation import Evaluation
from llmopt.space import Space
from llmopt.storage import Storage, StudyRecord, StudySettings, get_storage
from llmopt.study.arguments import check_n_trials, check_name, check_seed, check_settings, check_timeout, seed_words
from llmopt.study.front import hypervolume_of, pareto_records
from llmopt.study.eval_loop import optimize_evaluation
from llmopt.study.heartbeat import Heartbeat
from llmopt.study.live_trial import Trial
from llmopt.study.outcome import OutcomeConstraint, check_constraint_names, parse_constraints, violation_of
from llmopt.trial import Objective, TrialRecord, TrialState, check_values, parse_objectives

log = logging.getLogger("llmopt.study")

MAX_CLAIM_ATTEMPTS = 100
Callback = Callable[["Study", TrialRecord], None]


class Study:
    """A stored optimisation: use `create_study` / `load_study` rather than this constructor."""

    def __init__(self, storage: Storage, record: StudyRecord, space: Space, sampler: Sampler, *, owns_storage: bool = False) -> None:
        self.storage = storage
        self._record = record
        self.space = space
        self.sampler = sampler
        self._heartbeat = Heartbeat(storage, record.settings.heartbeat_interval)
        self._finished: dict[int, TrialRecord] = {}
        self._first_open = 0
        self._size: int | None | bool = False  # finite number of configurations; False: not counted yet
        self._stop = False  # set by stop(): the running optimize starts no more trials
        # A study nobody closes still stops its heartbeat thread (and releases a storage it opened
        # itself) when it is garbage-collected or the interpreter exits.
        self._closer = weakref.finalize(self, _release, self._heartbeat, storage if owns_storage else None)

    def __enter__(self) -> Study:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Study({self.name!r}, objectives={[o.name for o in self.objectives]}, storage={self.storage.url!r})"

    # -- identity -------------------------------------------------------------------------------
    @property
    def name(self) -> str:
        return self._record.name

    @property
    def objectives(self) -> tuple[Objective, ...]:
        return self._record.objectives

    @property
    def seed(self) -> int:
        return self._record.seed

    @property
    def settings(self) -> StudySettings:
        return self._record.settings

    @property
    def outcome_constraints(self) -> tuple[OutcomeConstraint, ...]:
        """Bounds on measured outcomes (stored with the study); infeasible trials never enter the front."""
        return parse_constraints(self._record.system_attrs.get("outcome_constraints"))

    @property
    def status(self) -> dict[str, Any]:
        """How the study stands, fresh from storage: {"state": "ok" | "budget_exhausted" | "space_exhausted", ...}.

        "budget_exhausted" (with "spent" and "budget") comes from the last evaluation run;
        "space_exhausted" (with "message") once every configuration of a finite space was taken.
        """
        attrs = self.storage.get_study(self.name).system_attrs
        status = dict(attrs.get("status") or {"state": "ok"})
        exhausted = attrs.get("space_exhausted")
        if exhausted and status.get("state") == "ok":
            status.update(state="space_exhausted", message=exhausted)
        return status

    # -- ask / tell -----------------------------------------------------------------------------
    def ask(self) -> Trial:
        """Start a trial: a queued one (enqueued or re-queued after a crash) or a newly sampled one.

        Raises SpaceExhaustedError, storing nothing, when every configuration of a finite
        space is taken (and the study does not allow repeats).
        """
        self._check_not_exhausted()
        record, new = self.storage.start_trial(self._record.study_id, time.time())
        self._heartbeat.add(record.trial_id)
        if not new:
            return Trial(self, record.trial_id, record.number, self.space.config(record.params or {}))
        try:
            params, fingerprint = self._propose(record)
        except SpaceExhaustedError as exc:  # another worker took the last point meanwhile: keep no empty trial
            self._heartbeat.remove(record.trial_id)
            self.storage.discard_trial(record.trial_id)
            self._mark_exhausted(exc.message)
            raise
        except BaseException as exc:  # the trial goes back to the queue and is proposed again on the next ask
            self._heartbeat.remove(record.trial_id)
            self.storage.requeue_trial(record.trial_id, f"the proposal failed: {type(exc).__name__}")
            raise
        return Trial(self, record.trial_id, record.number, self.space.config(params))

    def _check_not_exhausted(self) -> None:
        """Fail before a trial is stored when a finite space has no configuration left to claim."""
        if not self._claims:
            return
        if self._size is False:
            self._size = self.sampler.size(self.space) if hasattr(self.sampler, "size") else finite_size(self.space)
        if self._size is None:
            return
        history = self._history()
        if len({t.fingerprint for t in history if t.fingerprint}) < self._size:
            return
        if any(t.state == TrialState.RUNNING for t in history):  # a dead worker's trial may come back to the queue
            self.storage.requeue_stale_trials(self._record.study_id, time.time())
            history = self._history()
        if any(t.state == TrialState.WAITING and t.params is not None for t in history):
            return  # queued configurations still run
        taken = {t.fingerprint for t in history if t.fingerprint}
        if len(taken) >= self._size:
            message = f"all {self._size} configurations of the space have been evaluated or are running"
            self._mark_exhausted(message)
            raise SpaceExhaustedError(message, "the search is done: enlarge the space in a new study, or allow_repeats=True")

    def _mark_exhausted(self, message: str) -> None:
        if self._record.system_attrs.get("space_exhausted") != message:
            self.storage.set_study_system_attr(self._record.study_id, "space_exhausted", message)
            self._record.system_attrs["space_exhausted"] = message

    def _propose(self, record: TrialRecord) -> tuple[dict[str, Any], str]:
        """Sample with an rng derived from (seed, sample index, attempt); retry when another worker claimed the point."""
        for attempt in range(MAX_CLAIM_ATTEMPTS):
            rng = np.random.default_rng([seed_words(self.seed), record.sample_index or 0, attempt])
            history = self._history() if self.sampler.uses_history else []
            params = self._sample(history, rng, record.sample_index or 0)
            fingerprint = self.space.config(params).fingerprint
            if self.storage.set_trial_params(record.trial_id, params, fingerprint, claim=self._claims):
                return params, fingerprint
        if self.sampler.unique:
            raise StorageError(
                f"{MAX_CLAIM_ATTEMPTS} proposals in a row were already claimed by other workers",
                "use fewer workers for this finite space",
            )
        raise SpaceExhaustedError(
            f"{MAX_CLAIM_ATTEMPTS} proposals in a row were configurations this study already has: the space looks exhausted",
            "enlarge the space, or create the study with allow_repeats=True to evaluate configurations again",
        )

    @property
    def _claims(self) -> bool:
        """Every configuration is claimed once (no duplicates) unless the study allows repeats."""
        return self.sampler.unique or not self.settings.allow_repeats

    def _sample(self, history: Sequence[TrialRecord], rng: np.random.Generator, index: int) -> dict[str, Any]:
        params = self.sampler.sample(self.space, history, self.objectives, rng, index=index)
        broken = self.space.violations(params)
        if broken:
            raise StudyError(f"{type(self.sampler).__name__} proposed an infeasible configuration ({broken})", "report this sampler bug")
        return params

    def tell(
        self,
        trial: Trial | int,
        values: Any = None,
        *,
        state: TrialState | str | None = None,
        error: str | None = None,
        system_attrs: Mapping[str, Any] | None = None,
    ) -> TrialRecord:
        """Finish a trial. Values that are missing, NaN or of the wrong count make it FAILED, with the reason stored.

        `system_attrs` (measures, examples scored, a prune reason) are stored with the trial.
        """
        trial_id = trial.trial_id if isinstance(trial, Trial) else self._trial_id_of(trial)
        state = TrialState(state) if state is not None else (TrialState.FAILED if values is None and error else TrialState.COMPLETE)
        checked: dict[str, float] | None = None
        if state == TrialState.COMPLETE or (state == TrialState.PRUNED and values is not None):
            try:
                checked = check_values(values, self.objectives)
            except StudyError as exc:
                state, error = TrialState.FAILED, exc.message
        self._heartbeat.remove(trial_id)
        attrs = dict(system_attrs or {})
        if self.outcome_constraints and checked is not None:
            violation = violation_of(self.outcome_constraints, checked, attrs.get("measures"))
            if violation is None:
                missing = [c.name for c in self.outcome_constraints if c.name not in {**attrs.get("measures", {}), **checked}]
                log.warning("trial: outcome constraint(s) on %s have no value; treated as broken", missing)
                violation = math.inf
            attrs["constraint_violation"] = violation
        record = self.storage.finish_trial(trial_id, state, checked, error, time.time(), attrs)
        if record.state == TrialState.FAILED:
            log.warning("trial %d FAILED: %s", record.number, (record.error or "").splitlines()[0] if record.error else "")
        else:
            log.info("trial %d %s %s", record.number, record.state.value, record.values)
        return record

    def _trial_id_of(self, number: int) -> int:
        for t in self.storage.get_trials(self._record.study_id, min_number=number):
            if t.number == number and t.trial_id is not None:
                return t.trial_id
        raise StudyError(f"study {self.name!r} has no trial number {number}", "pass a Trial from ask() or an existing number")

    def enqueue(self, params: Mapping[str, Any]) -> int:
        """Queue a configuration to run before any sampled one; returns its trial number."""
        config = self.space.validate(params)
        return self.storage.enqueue_trial(
            self._record.study_id, config.to_dict(), config.fingerprint, self._claims, time.time()
        )

    def resume_trial(self, number: int) -> TrialRecord:
        """Queue a PRUNED trial to finish its evaluation set (no pruning this time), e.g. to confirm a front.

        Its stored examples are kept, so only the unscored ones are paid for; the next
        `optimize` with an Evaluation runs it before any new trial.
        """
        trial_id = self._trial_id_of(number)
        previous = next(t for t in self.storage.get_trials(self._record.study_id, min_number=number) if t.number == number)
        record = self.storage.reopen_trial(trial_id, {"no_prune": True, "pruned_before": {
            "reason": previous.system_attrs.get("prune_reason"), "values": previous.values}})
        # This process's history cache treats finished trials as final: forget this one. (Other
        # running workers keep seeing it as PRUNED until they reopen the study.)
        self._finished.pop(number, None)
        self._first_open = min(self._first_open, number)
        return record

    # -- the loop -------------------------------------------------------------------------------------
    def optimize(
        self,
        fn: Callable[[Trial], Any],
        n_trials: int | None = None,
        timeout: float | None = None,
        *,
        catch: tuple[type[BaseException], ...] = (Exception,),
        callbacks: Iterable[Callback] = (),
        show_progress: bool | None = None,
    ) -> None:
        """Run `fn(trial)` on new trials until `n_trials` ran, `timeout` seconds passed or the space is exhausted.

        `fn` returns one value per objective (a number, a sequence in objective order, or a
        mapping by name). An exception of a `catch` type fails that trial and the loop goes on;
        Ctrl-C puts the running trial back in the queue, so resuming runs it again.

        `fn` may be an `Evaluation` (dataset + pipeline + metric): its examples are then scored
        concurrently, stored one by one, metered and cached, with its budgets; a live progress
        line shows on a terminal (`show_progress=None`: only when stderr is a terminal).
        """
        n_trials, timeout = check_n_trials(n_trials), check_timeout(timeout)
        if not callable(fn) and not isinstance(fn, Evaluation):
            raise StudyError(f"optimize needs a function trial -> values or an Evaluation, got {fn!r}",
                             "pass objective functions or Evaluation(...)")
        if isinstance(fn, Evaluation):
            check_constraint_names(self.outcome_constraints, [o.name for o in self.objectives], [m.name for m in fn.measures])
            self._stop = False
            optimize_evaluation(self, fn, n_trials, timeout, list(callbacks), show_progress)
            return
        check_constraint_names(self.outcome_constraints, [o.name for o in self.objectives], [])
        deadline = None if timeout is None else time.monotonic() + timeout
        callbacks = list(callbacks)
        done = 0
        self._stop = False
        progress = ProgressLine(n_trials, enabled=show_progress if show_progress is not None else False)
        try:
            while (n_trials is None or done < n_trials) and (deadline is None or time.monotonic() < deadline) and not self._stop:
                try:
                    trial = self.ask()
                except SpaceExhaustedError as exc:
                    log.info("study %s: %s", self.name, exc.message)
                    break
                record = self._run_one(fn, trial, catch)
                done += 1
                progress.update(trials=1)
                for callback in callbacks:
                    callback(self, record)
        finally:
            progress.close()

    def _run_one(self, fn: Callable[[Trial], Any], trial: Trial, catch: tuple[type[BaseException], ...]) -> TrialRecord:
        try:
            raw = fn(trial)
        except KeyboardInterrupt:
            self._heartbeat.remove(trial.trial_id)
            self.storage.requeue_trial(trial.trial_id, "interrupted (KeyboardInterrupt)")
            raise
        except catch as exc:  # type, message and frame locations, no source lines (they may hold a key)
            return self.tell(trial, state=TrialState.FAILED, error=describe_exception(exc, frames=8))
        except BaseException:
            self._heartbeat.remove(trial.trial_id)
            self.storage.requeue_trial(trial.trial_id, "worker stopped by an uncaught exception")
            raise
        return self.tell(trial, raw)

    # -- reading results ---------------------------------------------------------------------------
    @property
    def trials(self) -> list[TrialRecord]:
        """All trials, ordered by number, fresh from storage."""
        return self.storage.get_trials(self._record.study_id)

    def get_trials(self, states: Iterable[TrialState | str] | None = None) -> list[TrialRecord]:
        return self.storage.get_trials(self._record.study_id, None if states is None else [TrialState(s) for s in states])

    def _history(self) -> list[TrialRecord]:
        """Every trial, re-reading only those not known finished (finished trials do not change)."""
        fetched = self.storage.get_trials(self._record.study_id, min_number=self._first_open)
        open_ = []
        for record in fetched:
            if record.state.is_finished:
                self._finished[record.number] = record
            else:
                open_.append(record)
        if open_:
            self._first_open = open_[0].number
        elif fetched:
            self._first_open = fetched[-1].number + 1
        return sorted([*self._finished.values(), *open_], key=lambda t: t.number)

    def pareto_front(self) -> list[TrialRecord]:
        """The non-dominated COMPLETE trials, best first on the first objective."""
        return pareto_records([t for t in self.get_trials([TrialState.COMPLETE]) if t.feasible], self.objectives)

    def hypervolume(self, reference: Sequence[float] | None = None) -> float:
        """Hypervolume of the front (see `llmopt.study.front.hypervolume_of` for the default reference)."""
        return hypervolume_of([t for t in self.get_trials([TrialState.COMPLETE]) if t.feasible], self.objectives, reference)

    def write_report(self, path: str | os.PathLike[str]) -> Path:
        """Write the self-contained HTML report (plots, front table, importance) to `path`; opens offline.

        The page is written to a temporary file beside `path` and renamed, so a reader never
        sees half a report.
        """
        from llmopt.report.html import build_html
        from llmopt.study.report_data import report_data

        target = Path(path)
        partial = target.with_name(target.name + ".partial")
        partial.write_text(build_html(report_data(self)), encoding="utf-8")
        partial.replace(target)
        return target

    @property
    def best_trial(self) -> TrialRecord:
        """The best COMPLETE trial of a single-objective study."""
        if len(self.objectives) != 1:
            raise StudyError(f"best_trial needs one objective, this study has {len(self.objectives)}", "use pareto_front()")
        front = self.pareto_front()
        if not front:
            raise StudyError(f"study {self.name!r} has no COMPLETE trial yet", "run optimize() first")
        return front[0]

    def stop(self) -> None:
        """Start no more trials in the running `optimize` (call it from a callback, as in
        Optuna); the trials in flight finish. The next `optimize` call starts afresh."""
        self._stop = True

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def system_attrs(self) -> dict[str, Any]:
        """llmopt's own study-level records, fresh from storage (status, budget, pruning, the
        files `llmopt optimize` ran it with)."""
        return dict(self.storage.get_study(self.name).system_attrs)

    def set_system_attr(self, key: str, value: Any) -> None:
        """Store one of llmopt's study-level records (JSON-serialisable), shared by every worker."""
        self.storage.set_study_system_attr(self._record.study_id, key, value)
        self._record.system_attrs[key] = value

    def set_sampler(self, sampler: Sampler) -> None:
        """Switch the study to another sampler from now on, and store it so resumes use it too."""
        _probe(self.space, sampler)
        self.storage.set_study_sampler(self._record.study_id, sampler.to_dict())
        log.info("study %s: sampler switched from %s to %s", self.name, self._record.sampler, sampler.to_dict())
        self.sampler = sampler
        self._size = False

    def set_pruner(self, pruner: Any, stages: Any = None) -> None:
        """Switch the pruner (and its stages) an Evaluation uses from now on; stored for resumes.

        `pruner=None` turns pruning off; stages as for `Evaluation(stages=...)`.
        """
        from llmopt.study.pruning_settings import store_pruning

        store_pruning(self, pruner, stages)

    def close(self) -> None:
        """Stop the heartbeat thread and release database connections (also done by `with`, at GC and at exit)."""
        self._closer.detach()
        self._heartbeat.stop()
        self.storage.close()


def _release(heartbeat: Heartbeat, storage: Storage | None) -> None:
    heartbeat.stop()
    if storage is not None:
        storage.close()


def create_study(
    name: str | None = None,
    space: Space | Mapping[str, Any] | None = None,
    objectives: Any = None,
    storage: Storage | str | None = None,
    sampler: Sampler | None = None,
    seed: int | None = None,
    load_if_exists: bool = False,
    *,
    heartbeat_interval: float = 15.0,
    stale_after: float = 60.0,
    max_attempts: int = 3,
    allow_repeats: bool = False,
    constraints: Iterable[Any] | None = None,
) -> Study:
    """Create a stored study (or reopen it with `load_if_exists=True`).

    Everything is checked before anything is written: the space must serialise, be feasible
    and suit the sampler; reopening checks the space, objectives, seed and constraints match,
    and resumes with the stored sampler (passing a different one is an error: switch with
    `study.set_sampler`). Creation is one atomic insert, so workers that start at the same
    moment all get the same study. A configuration is evaluated once (same fingerprint, not
    proposed again) unless `allow_repeats=True`. `constraints` bound measured outcomes, e.g.
    `["cost <= 0.002", "latency_p95 <= 2"]` (objective names or stored measures): trials that
    break them are kept but never enter the Pareto front, and samplers steer away from them.
    """
    if space is None:
        raise StudyError("create_study needs a space", "pass space=Space({...})")
    space = space if isinstance(space, Space) else Space(space)
    parsed = parse_objectives(objectives if objectives is not None else {"value": "minimize"})
    if sampler is not None and not isinstance(sampler, Sampler):
        raise StudyError(f"sampler must be a Sampler, got {type(sampler).__name__} {sampler!r}", "e.g. sampler=llmopt.TPESampler()")
    name = check_name(name) if name is not None else f"study-{time.strftime('%Y%m%d-%H%M%S')}-{secrets.token_hex(2)}"
    seed = check_seed(seed)
    check_settings(heartbeat_interval, stale_after, max_attempts)
    outcome = parse_constraints(constraints)
    check_constraint_names(outcome, [o.name for o in parsed], None)
    space_json = space.to_json()  # raises for implementations that cannot be stored
    chosen = sampler or default_sampler()
    _probe(space, chosen)
    owns = not isinstance(storage, Storage)
    store = get_storage(storage)
    try:
        if load_if_exists:
            existing = _find(store, name)
            if existing is not None:
                return _reopen(store, existing, space, parsed, seed, sampler, constraints, outcome, owns)
        attrs = {"outcome_constraints": [c.to_dict() for c in outcome]} if outcome else {}
        try:
            record = store.create_study(
                name, space_json, parsed, chosen.to_dict(),
                seed if seed is not None else secrets.randbits(63),
                StudySettings(float(heartbeat_interval), float(stale_after), int(max_attempts), bool(allow_repeats)),
                system_attrs=attrs,
            )
        except DuplicateStudyError:
            if not load_if_exists:
                raise
            # Another worker created it between our look and our insert: reopen theirs.
            return _reopen(store, store.get_study(name), space, parsed, seed, sampler, constraints, outcome, owns)
        return Study(store, record, space, chosen, owns_storage=owns)
    except BaseException:
        if owns:
            store.close()
        raise


def load_study(name: str, storage: Storage | str | None = None, sampler: Sampler | None = None) -> Study:
    """Reopen a stored study by name with its stored sampler; numbering and sampling continue where they stopped.

    A `sampler` that differs from the stored one is an error (switch with `study.set_sampler`).
    """
    owns = not isinstance(storage, Storage)
    store = get_storage(storage, create=False)
    try:
        record = store.get_study(name)
        space = Space.from_json(record.space_json)
        return Study(store, record, space, _stored_sampler(record, sampler), owns_storage=owns)
    except BaseException:
        if owns:
            store.close()
        raise


def _find(store: Storage, name: str) -> StudyRecord | None:
    try:
        return store.get_study(name)
    except StudyError:
        return None


def _reopen(
    store: Storage, existing: StudyRecord, space: Space, objectives: tuple[Objective, ...], seed: int | None,
    sampler: Sampler | None, constraints: Iterable[Any] | None, outcome: Sequence[OutcomeConstraint], owns: bool,
) -> Study:
    _check_same(existing, space, objectives, seed)
    stored = parse_constraints(existing.system_attrs.get("outcome_constraints"))
    if constraints is not None and list(stored) != list(outcome):
        raise StudyError(
            f"study {existing.name!r} exists with outcome constraints {[c.to_dict() for c in stored]}, given {[c.to_dict() for c in outcome]}",
            "use the same constraints, or a new study name",
        )
    return Study(store, existing, Space.from_json(existing.space_json), _stored_sampler(existing, sampler), owns_storage=owns)


def _stored_sampler(record: StudyRecord, given: Sampler | None) -> Sampler:
    """The sampler a resumed study runs: the stored one; a different explicit one is refused."""
    if given is None:
        return sampler_from_dict(record.sampler)
    if _plain(given.to_dict()) != _plain(record.sampler):
        raise StudyError(
            f"study {record.name!r} was run with sampler {record.sampler}, given {given.to_dict()}",
            "drop the sampler to resume with the stored one, or switch on purpose with "
            "study.set_sampler(...) (CLI: --change-sampler)",
        )
    return given


def _plain(data: Any) -> Any:
    """Settings as they come back from storage (tuples become lists) for comparison."""
    return json.loads(json.dumps(data, default=str))


def delete_study(name: str, storage: Storage | str | None = None) -> None:
    """Delete a study with its trials and per-example results."""
    get_storage(storage, create=False).delete_study(name)


def _probe(space: Space, sampler: Sampler) -> None:
    """Fail at creation, not at trial 37: the space must have a feasible point the sampler can reach."""
    if hasattr(sampler, "size"):
        sampler.size(space)
    else:
        draw_feasible(space, np.random.default_rng(0), max_tries=5000)


def _check_same(existing: StudyRecord, space: Space, objectives: tuple[Objective, ...], seed: int | None) -> None:
    stored_space = Space.from_json(existing.space_json)
    if stored_space != space:
        raise StudyError(
            f"study {existing.name!r} exists with a different space (stored {stored_space!r}, given {space!r})",
            "use load_study() to reopen it as stored, or a new study name",
        )
    if tuple(o.to_dict() for o in existing.objectives) != tuple(o.to_dict() for o in objectives):
        raise StudyError(
            f"study {existing.name!r} exists with objectives {[o.to_dict() for o in existing.objectives]}, "
            f"given {[o.to_dict() for o in objectives]}",
            "use the same objectives, or a new study name",
        )
    if seed is not None and seed != existing.seed:
        raise StudyError(
            f"study {existing.name!r} was created with seed {existing.seed}, given seed {seed}",
            "drop seed= to reuse the stored one, or use a new study name",
        )
