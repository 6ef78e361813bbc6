"""SQLStorage: studies in any SQLAlchemy database (SQLite file, in-memory SQLite, PostgreSQL).

Concurrency: every write that allocates a trial number locks the study row first
(`SELECT ... FOR UPDATE` on PostgreSQL, `BEGIN IMMEDIATE` on SQLite), so numbers and
sampler draws stay unique across processes; grid points are claimed through a primary key.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, nullcontext
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Connection, delete, func, inspect, select, update
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from llmopt.errors import DuplicateStudyError, SchemaVersionError, StorageError, StudyError, StudyNotFoundError
from llmopt.redaction import redact
from llmopt.storage.base import Storage, StudyRecord, StudySettings, StudySummary, TrialSpend
from llmopt.storage.sql import codec
from llmopt.storage.sql.engine import enable_wal, make_engine, normalize_url, sqlite_path
from llmopt.storage.sql.failures import storage_error
from llmopt.storage.sql.tables import SCHEMA_VERSION, cache, calls, claims, examples, meta, metadata, studies, trials
from llmopt.trial import CallRecord, ExampleResult, Objective, TrialRecord, TrialState

_ADVISORY_LOCK_KEY = 7_061_421  # serialises schema creation on PostgreSQL

#: The in-memory view of a study's cache keys is re-read from the database, on a miss, at most
#: this often (and never more than 1/_CACHE_VIEW_DUTY of the time, however large the study):
#: entries another process wrote since are found once the view is re-read (until then they are
#: misses: a call paid again, never a wrong answer).
_CACHE_VIEW_REFRESH = 5.0
_CACHE_VIEW_DUTY = 50


_INSERT_EXAMPLE = examples.insert()
_INSERT_CALL = calls.insert()


def _dt(ts: float | None) -> datetime | None:
    return None if ts is None else datetime.fromtimestamp(ts, tz=timezone.utc)


class SQLStorage(Storage):
    """Storage through SQLAlchemy 2.0; `create=False` refuses to create a database, `readonly=True`
    also refuses to change one (the CLI's reading commands: a SQLite file is opened read-only).

    A SQLite file that holds other tables but no llmopt schema is refused, never written to.

    >>> storage = SQLStorage(":memory:")
    >>> storage.list_studies()
    []
    """

    def __init__(self, url: str | None = None, *, create: bool = True, readonly: bool = False) -> None:
        self.url = normalize_url(url)
        path = sqlite_path(self.url)
        self.readonly = readonly
        create = create and not readonly
        if path is not None and not create and not path.exists():
            raise StorageError(f"no llmopt database at {path}", "run a study first, or pass --storage with the right URL")
        if path is not None and path.is_dir():
            raise StorageError(f"{path} is a directory, not a database file", "pass a file path, e.g. --storage study.db")
        self.engine = make_engine(self.url, readonly=readonly and path is not None)
        self._is_postgres = self.engine.dialect.name == "postgresql"
        # The in-memory database is one shared connection: serialise its users.
        self._lock: Any = threading.RLock() if path is None and not self._is_postgres else nullcontext()
        # Per study: the cache keys known to exist (see cache_get), and when to re-read them.
        self._cache_keys: dict[int, _CacheKeys] = {}
        self._cache_keys_lock = threading.Lock()
        # trial id -> study id of the trials this object started: per-example writes skip a lookup.
        self._study_of_trial: dict[int, int] = {}
        self._insert_cache_stmt: Any = None
        self._init_schema(create)

    # -- plumbing -------------------------------------------------------------------------
    @contextmanager
    def _txn(self, readonly: bool = False) -> Iterator[Connection]:
        """One transaction: commit on success, roll back and raise StorageError on a database error."""
        with self._lock:
            try:
                with self.engine.connect() as conn:
                    if readonly:
                        conn.execution_options(llmopt_readonly=True)
                    with conn.begin():
                        yield conn
            except IntegrityError:
                raise
            except (SQLAlchemyError, sqlite3.Error) as exc:  # sqlite3's own: raised by the connect hook
                raise storage_error(exc, self._safe_url()) from exc

    def _safe_url(self) -> str:
        """The URL as the user gave it, password hidden (a read-only SQLite engine's own URL is a bare sqlite://)."""
        from sqlalchemy.engine import make_url

        return make_url(self.url).render_as_string(hide_password=True)

    def _init_schema(self, create: bool) -> None:
        """Check the schema before anything is written: ours, a version we read, else refuse untouched."""
        created = False
        with self._txn(readonly=self.readonly) as conn:
            if self._is_postgres:
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_ADVISORY_LOCK_KEY})")
            inspector = inspect(conn)
            if not inspector.has_table(meta.name):
                if not create:
                    raise StorageError(f"{self._safe_url()} holds no llmopt studies", "check --storage, or run a study first")
                others = [t for t in inspector.get_table_names() if not t.startswith("llmopt_")]
                if others and not self._is_postgres:
                    raise StorageError(
                        f"{self._safe_url()} is another application's SQLite database (tables {sorted(others)[:5]}); "
                        "llmopt does not write its tables into it",
                        "pass --storage with a new file name, e.g. sqlite:///llmopt.db",
                    )
                metadata.create_all(conn)
                conn.execute(meta.insert().values(key="schema_version", value=str(SCHEMA_VERSION)))
                created = True
            else:
                stored = self._stored_version(conn)
                if stored > SCHEMA_VERSION:
                    raise SchemaVersionError(
                        f"{self._safe_url()} was written by a newer llmopt (schema v{stored}; this one reads up to v{SCHEMA_VERSION})",
                        "upgrade llmopt (pip install -U llmopt); the database was left untouched",
                    )
                if stored < SCHEMA_VERSION:
                    if self.readonly:
                        raise SchemaVersionError(
                            f"{self._safe_url()} has schema v{stored}, older than this llmopt's v{SCHEMA_VERSION}; "
                            "a reading command does not upgrade it",
                            "run `llmopt upgrade` with the same --storage (or any llmopt optimize) to upgrade it first",
                        )
                    from llmopt.storage.sql.migrations import migrate

                    migrate(conn, stored)
        if created and sqlite_path(self.url) is not None:
            enable_wal(self.engine)

    def _stored_version(self, conn: Connection) -> int:
        text = conn.execute(select(meta.c.value).where(meta.c.key == "schema_version")).scalar()
        try:
            return int(str(text).strip())
        except ValueError:
            raise SchemaVersionError(
                f"{self._safe_url()} has an unreadable schema version {str(text)[:40]!r} in llmopt_meta",
                "the file is damaged or was not written by llmopt; restore it from a backup or use a new --storage",
            ) from None

    def close(self) -> None:
        self.engine.dispose()

    # -- studies ----------------------------------------------------------------------------
    def create_study(
        self,
        name: str,
        space_json: str,
        objectives: tuple[Objective, ...],
        sampler: dict[str, Any],
        seed: int,
        settings: StudySettings,
        system_attrs: Mapping[str, Any] | None = None,
    ) -> StudyRecord:
        try:
            with self._txn() as conn:
                conn.execute(
                    studies.insert().values(
                        name=name,
                        space_json=space_json,
                        objectives_json=codec.dumps([o.to_dict() for o in objectives]),
                        sampler_json=codec.dumps(sampler),
                        settings_json=codec.dumps(settings.to_dict()),
                        user_attrs_json="{}",
                        system_attrs_json=codec.dumps(dict(system_attrs or {})),
                        seed=seed,
                        created_at=time.time(),
                        next_number=0,
                        next_sample=0,
                    )
                )
        except IntegrityError:
            raise DuplicateStudyError(
                f"a study named {name!r} already exists in {self._safe_url()}",
                "pass load_if_exists=True to resume it, or choose another name",
            ) from None
        return self.get_study(name)

    def get_study(self, name: str) -> StudyRecord:
        with self._txn(readonly=True) as conn:
            row = conn.execute(select(studies).where(studies.c.name == name)).mappings().first()
            if row is None:
                known = conn.execute(select(studies.c.name).order_by(studies.c.id)).scalars().all()
        if row is None:
            raise StudyNotFoundError(
                f"no study named {name!r} in {self._safe_url()}",
                f"use one of {list(known)}" if known else "create it first (create_study or `llmopt optimize`)",
            )
        return StudyRecord(
            study_id=row["id"],
            name=row["name"],
            space_json=row["space_json"],
            objectives=tuple(Objective(**o) for o in codec.loads(row["objectives_json"])),
            sampler=codec.loads(row["sampler_json"]),
            seed=int(row["seed"]),
            settings=StudySettings(**codec.loads(row["settings_json"])),
            created_at=_dt(row["created_at"]),
            user_attrs=codec.loads(row["user_attrs_json"]),
            system_attrs=codec.loads(row["system_attrs_json"]),
        )

    def set_study_sampler(self, study_id: int, sampler: dict[str, Any]) -> None:
        with self._txn() as conn:
            conn.execute(update(studies).where(studies.c.id == study_id).values(sampler_json=codec.dumps(sampler)))

    def set_study_system_attr(self, study_id: int, key: str, value: Any) -> None:
        with self._txn() as conn:
            attrs = codec.loads(conn.execute(select(studies.c.system_attrs_json).where(studies.c.id == study_id)).scalar_one())
            attrs[key] = value
            conn.execute(update(studies).where(studies.c.id == study_id).values(system_attrs_json=codec.dumps(attrs)))

    def list_studies(self) -> list[StudySummary]:
        with self._txn(readonly=True) as conn:
            rows = conn.execute(select(studies.c.id, studies.c.name, studies.c.objectives_json, studies.c.created_at).order_by(studies.c.id)).all()
            counts = conn.execute(
                select(trials.c.study_id, trials.c.state, func.count()).group_by(trials.c.study_id, trials.c.state)
            ).all()
        by_study: dict[int, dict[str, int]] = {}
        for study_id, state, n in counts:
            by_study.setdefault(study_id, {})[state] = n
        return [
            StudySummary(
                name=name,
                objectives=tuple(Objective(**o) for o in codec.loads(obj_json)),
                counts=by_study.get(sid, {}),
                created_at=_dt(created),
            )
            for sid, name, obj_json, created in rows
        ]

    def delete_study(self, name: str) -> None:
        study_id = self.get_study(name).study_id
        with self._txn() as conn:
            trial_ids = select(trials.c.id).where(trials.c.study_id == study_id)
            conn.execute(delete(examples).where(examples.c.trial_id.in_(trial_ids)))
            conn.execute(delete(calls).where(calls.c.study_id == study_id))
            conn.execute(delete(cache).where(cache.c.study_id == study_id))
            conn.execute(delete(claims).where(claims.c.study_id == study_id))
            conn.execute(delete(trials).where(trials.c.study_id == study_id))
            conn.execute(delete(studies).where(studies.c.id == study_id))
        with self._cache_keys_lock:  # ids may be reused by a new study (SQLite)
            self._cache_keys.pop(study_id, None)
            for trial_id in [t for t, s in list(self._study_of_trial.items()) if s == study_id]:
                del self._study_of_trial[trial_id]

    # -- trials -------------------------------------------------------------------------------
    def _lock_study(self, conn: Connection, study_id: int) -> Mapping[str, Any]:
        row = conn.execute(
            select(studies.c.next_number, studies.c.next_sample, studies.c.settings_json)
            .where(studies.c.id == study_id)
            .with_for_update()
        ).mappings().first()
        if row is None:
            raise StudyNotFoundError(f"study id {study_id} no longer exists", "it was deleted; create it again")
        return row

    def start_trial(self, study_id: int, now: float) -> tuple[TrialRecord, bool]:
        with self._txn() as conn:
            study = self._lock_study(conn, study_id)
            settings = StudySettings(**codec.loads(study["settings_json"]))
            self._requeue_stale(conn, study_id, now, settings)
            waiting = conn.execute(
                select(trials.c.id)
                .where(trials.c.study_id == study_id, trials.c.state == TrialState.WAITING.value)
                .order_by(trials.c.number)
                .limit(1)
            ).scalar()
            if waiting is not None:
                conn.execute(
                    update(trials)
                    .where(trials.c.id == waiting)
                    .values(state=TrialState.RUNNING.value, started_at=now, heartbeat_at=now, attempts=trials.c.attempts + 1)
                )
                self._study_of_trial[waiting] = study_id
                record = self._trial(conn, waiting)
                return record, record.params is None
            conn.execute(
                update(studies)
                .where(studies.c.id == study_id)
                .values(next_number=studies.c.next_number + 1, next_sample=studies.c.next_sample + 1)
            )
            trial_id = conn.execute(
                trials.insert().values(
                    study_id=study_id,
                    number=study["next_number"],
                    state=TrialState.RUNNING.value,
                    sample_index=study["next_sample"],
                    attempts=1,
                    created_at=now,
                    started_at=now,
                    heartbeat_at=now,
                    user_attrs_json="{}",
                    system_attrs_json="{}",
                )
            ).inserted_primary_key[0]
            self._study_of_trial[trial_id] = study_id
            return self._trial(conn, trial_id), True

    def requeue_stale_trials(self, study_id: int, now: float) -> None:
        with self._txn() as conn:
            study = self._lock_study(conn, study_id)
            self._requeue_stale(conn, study_id, now, StudySettings(**codec.loads(study["settings_json"])))

    def _requeue_stale(self, conn: Connection, study_id: int, now: float, settings: StudySettings) -> None:
        """A RUNNING trial whose worker stopped heartbeating goes back to the queue (or FAILS after max_attempts)."""
        stale = conn.execute(
            select(trials.c.id, trials.c.attempts, trials.c.params_json, trials.c.system_attrs_json).where(
                trials.c.study_id == study_id,
                trials.c.state == TrialState.RUNNING.value,
                trials.c.heartbeat_at < now - settings.stale_after,
            )
        ).all()
        for trial_id, attempts, params_json, attrs_json in stale:
            reason = f"worker stopped heartbeating for over {settings.stale_after:g}s (attempt {attempts})"
            attrs = codec.loads(attrs_json)
            attrs.setdefault("requeued", []).append(reason)
            # No configuration stored: the worker died while proposing, before anything was
            # evaluated. It is re-queued (proposed again on its sample index), never FAILED.
            if params_json is not None and attempts >= settings.max_attempts:
                conn.execute(
                    update(trials).where(trials.c.id == trial_id).values(
                        state=TrialState.FAILED.value, finished_at=now, error=f"{reason}; gave up after {attempts} attempts",
                        system_attrs_json=codec.dumps(attrs),
                    )
                )
            else:
                conn.execute(
                    update(trials).where(trials.c.id == trial_id).values(
                        state=TrialState.WAITING.value, system_attrs_json=codec.dumps(attrs)
                    )
                )

    def set_trial_params(self, trial_id: int, params: Mapping[str, Any], fingerprint: str, claim: bool) -> bool:
        try:
            with self._txn() as conn:
                study_id = conn.execute(select(trials.c.study_id).where(trials.c.id == trial_id)).scalar_one()
                if claim:
                    conn.execute(claims.insert().values(study_id=study_id, fingerprint=fingerprint, trial_id=trial_id))
                conn.execute(
                    update(trials).where(trials.c.id == trial_id).values(params_json=codec.dumps(dict(params)), fingerprint=fingerprint)
                )
        except IntegrityError:
            return False
        return True

    def finish_trial(
        self,
        trial_id: int,
        state: TrialState,
        values: Mapping[str, float] | None,
        error: str | None,
        now: float,
        system_attrs: Mapping[str, Any] | None = None,
    ) -> TrialRecord:
        if not state.is_finished:
            raise StudyError(f"cannot finish a trial as {state.value}", "use COMPLETE, PRUNED or FAILED")
        with self._txn() as conn:
            current = conn.execute(
                select(trials.c.state, trials.c.number, trials.c.system_attrs_json).where(trials.c.id == trial_id)
            ).one()
            if TrialState(current.state).is_finished:
                raise StudyError(
                    f"trial {current.number} is already {current.state}", "tell each trial once"
                )
            attrs = {**codec.loads(current.system_attrs_json), **dict(system_attrs or {})}
            conn.execute(
                update(trials).where(trials.c.id == trial_id).values(
                    state=state.value,
                    values_json=None if values is None else codec.dumps(dict(values)),
                    error=None if error is None else redact(error),  # a user's exception text may quote a key
                    finished_at=now,
                    system_attrs_json=codec.dumps(attrs),
                )
            )
            return self._trial(conn, trial_id)

    def discard_trial(self, trial_id: int) -> None:
        with self._txn() as conn:
            conn.execute(delete(claims).where(claims.c.trial_id == trial_id))
            conn.execute(delete(trials).where(
                trials.c.id == trial_id, trials.c.state == TrialState.RUNNING.value, trials.c.params_json.is_(None)))
        self._study_of_trial.pop(trial_id, None)

    def requeue_trial(self, trial_id: int, reason: str) -> None:
        with self._txn() as conn:
            attrs = codec.loads(conn.execute(select(trials.c.system_attrs_json).where(trials.c.id == trial_id)).scalar_one())
            attrs.setdefault("requeued", []).append(reason)
            conn.execute(
                update(trials)
                .where(trials.c.id == trial_id, trials.c.state == TrialState.RUNNING.value)
                .values(state=TrialState.WAITING.value, system_attrs_json=codec.dumps(attrs))
            )

    def reopen_trial(self, trial_id: int, system_attrs: Mapping[str, Any]) -> TrialRecord:
        with self._txn() as conn:
            row = conn.execute(select(trials.c.state, trials.c.number, trials.c.system_attrs_json).where(trials.c.id == trial_id)).one()
            if row.state != TrialState.PRUNED.value:
                raise StudyError(f"trial {row.number} is {row.state}; only a PRUNED trial can be resumed", "pick a PRUNED trial")
            attrs = {**codec.loads(row.system_attrs_json), **dict(system_attrs)}
            conn.execute(
                update(trials).where(trials.c.id == trial_id).values(
                    state=TrialState.WAITING.value, values_json=None, finished_at=None, system_attrs_json=codec.dumps(attrs)
                )
            )
            return self._trial(conn, trial_id)

    def heartbeat(self, trial_ids: Iterable[int], now: float) -> None:
        ids = list(trial_ids)
        if not ids:
            return
        with self._txn() as conn:
            conn.execute(
                update(trials).where(trials.c.id.in_(ids), trials.c.state == TrialState.RUNNING.value).values(heartbeat_at=now)
            )

    def enqueue_trial(self, study_id: int, params: Mapping[str, Any], fingerprint: str, claim: bool, now: float) -> int:
        try:
            with self._txn() as conn:
                study = self._lock_study(conn, study_id)
                number = study["next_number"]
                conn.execute(update(studies).where(studies.c.id == study_id).values(next_number=studies.c.next_number + 1))
                trial_id = conn.execute(
                    trials.insert().values(
                        study_id=study_id, number=number, state=TrialState.WAITING.value,
                        params_json=codec.dumps(dict(params)), fingerprint=fingerprint, attempts=0,
                        created_at=now, user_attrs_json="{}", system_attrs_json=codec.dumps({"enqueued": True}),
                    )
                ).inserted_primary_key[0]
                if claim:
                    conn.execute(claims.insert().values(study_id=study_id, fingerprint=fingerprint, trial_id=trial_id))
        except IntegrityError:
            raise StudyError(
                f"configuration {fingerprint} was already proposed in this study", "enqueue a different configuration"
            ) from None
        return number

    def get_trials(
        self, study_id: int, states: Iterable[TrialState] | None = None, min_number: int = 0
    ) -> list[TrialRecord]:
        query = select(trials).where(trials.c.study_id == study_id)
        if min_number:
            query = query.where(trials.c.number >= min_number)
        if states is not None:
            query = query.where(trials.c.state.in_([TrialState(s).value for s in states]))
        with self._txn(readonly=True) as conn:
            rows = conn.execute(query.order_by(trials.c.number)).mappings().all()
        return [_record(row) for row in rows]

    def _trial(self, conn: Connection, trial_id: int) -> TrialRecord:
        return _record(conn.execute(select(trials).where(trials.c.id == trial_id)).mappings().one())

    def set_trial_user_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._set_trial_attr(trial_id, trials.c.user_attrs_json, key, value)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        self._set_trial_attr(trial_id, trials.c.system_attrs_json, key, value)

    def _set_trial_attr(self, trial_id: int, column: Any, key: str, value: Any) -> None:
        with self._txn() as conn:
            attrs = codec.loads(conn.execute(select(column).where(trials.c.id == trial_id)).scalar_one())
            attrs[key] = value
            conn.execute(update(trials).where(trials.c.id == trial_id).values({column.name: codec.dumps(attrs)}))

    # -- per-example results, calls and the call cache ------------------------------------------
    def add_example_result(self, trial_id: int, result: ExampleResult, cache_entries: Mapping[str, str] | None = None) -> None:
        now = time.time()
        study_id = self._study_of_trial.get(trial_id)
        try:
            with self._txn() as conn:
                if study_id is None:  # a trial another Storage object started
                    study_id = conn.execute(select(trials.c.study_id).where(trials.c.id == trial_id)).scalar_one()
                conn.execute(  # one statement object, values as parameters: compiled once, not per example
                    _INSERT_EXAMPLE,
                    dict(
                        trial_id=trial_id,
                        example_id=result.example_id,
                        metrics_json=codec.dumps(result.metrics),
                        cost=result.cost,
                        latency=result.latency,
                        prompt_tokens=result.prompt_tokens,
                        completion_tokens=result.completion_tokens,
                        error=None if result.error is None else redact(result.error),  # defence in depth
                        created_at=now,
                        billed_cost=result.billed_cost,
                        output=result.output,
                        n_calls=result.n_calls,
                        cache_hits=result.cache_hits,
                    ),
                )
                self._insert_calls(conn, study_id, trial_id, result.calls, result.example_id, now)
                self._insert_cache(conn, study_id, cache_entries or {}, now)
        except IntegrityError:
            raise StudyError(
                f"example {result.example_id!r} is already recorded for this trial",
                "record each example once; a resumed trial should skip the examples it has",
            ) from None
        if cache_entries:  # committed: this process's lookups find them from now on
            self._cache_keys_known(study_id, cache_entries)

    def _insert_calls(
        self, conn: Connection, study_id: int, trial_id: int, records: Iterable[CallRecord], example_id: str | None, now: float
    ) -> None:
        rows = [
            dict(
                study_id=study_id, trial_id=trial_id, example_id=c.example_id or example_id, model=c.model,
                prompt_tokens=c.prompt_tokens, completion_tokens=c.completion_tokens, cost=c.cost,
                billed_cost=c.billed_cost, latency=c.latency, cache_hit=int(c.cache_hit),
                error=None if c.error is None else redact(c.error), created_at=now, status=c.status,
                error_class=c.error_class, attempt=c.attempt, maybe_billed=int(c.maybe_billed),
            )
            for c in records
        ]
        if rows:
            conn.execute(_INSERT_CALL, rows[0] if len(rows) == 1 else rows)

    def _insert_cache(self, conn: Connection, study_id: int, entries: Mapping[str, str], now: float) -> None:
        """Insert new cache entries; a key another worker wrote first is kept as it is."""
        if not entries:
            return
        if self._insert_cache_stmt is None:
            if self._is_postgres:
                from sqlalchemy.dialects.postgresql import insert as pg_insert

                self._insert_cache_stmt = pg_insert(cache).on_conflict_do_nothing()
            else:
                from sqlalchemy.dialects.sqlite import insert as sqlite_insert

                self._insert_cache_stmt = sqlite_insert(cache).on_conflict_do_nothing()
        rows = [dict(study_id=study_id, key=k, response_json=v, created_at=now) for k, v in entries.items()]
        conn.execute(self._insert_cache_stmt, rows[0] if len(rows) == 1 else rows)

    def add_calls(self, trial_id: int, records: Iterable[CallRecord]) -> None:
        with self._txn() as conn:
            study_id = conn.execute(select(trials.c.study_id).where(trials.c.id == trial_id)).scalar_one()
            self._insert_calls(conn, study_id, trial_id, list(records), None, time.time())

    def get_example_results(self, trial_id: int) -> list[ExampleResult]:
        return self.get_examples_of_trials([trial_id]).get(trial_id, [])

    def get_examples_of_trials(self, trial_ids: Iterable[int]) -> dict[int, list[ExampleResult]]:
        ids = list(trial_ids)
        out: dict[int, list[ExampleResult]] = {i: [] for i in ids}
        if not ids:
            return out
        with self._txn(readonly=True) as conn:
            rows = conn.execute(select(examples).where(examples.c.trial_id.in_(ids)).order_by(examples.c.id)).mappings().all()
        for r in rows:
            out[r["trial_id"]].append(_example(r))
        return out

    def get_calls(self, trial_id: int) -> list[CallRecord]:
        with self._txn(readonly=True) as conn:
            rows = conn.execute(select(calls).where(calls.c.trial_id == trial_id).order_by(calls.c.id)).mappings().all()
        return [_call(r) for r in rows]

    # -- streaming readers: keyset pages (WHERE key > last ORDER BY key LIMIT batch) ------------------
    def iter_trials(self, study_id: int, batch: int = 500) -> Iterator[TrialRecord]:
        query = select(trials).where(trials.c.study_id == study_id)
        return (_record(row) for row in self._pages(query, trials.c.number, batch))

    def iter_examples(self, study_id: int, batch: int = 1000) -> Iterator[tuple[int, ExampleResult]]:
        """Examples carry no study id: the join on the trial gives both the filter and the trial number.

        Every page should walk the examples' primary key from the last one read. PostgreSQL
        does so by its statistics (kept by autovacuum). SQLite, left alone, starts from the
        trials' index and sorts all the study's examples again for every page (quadratic: 1.3 s
        of queries instead of 0.18 s at 100,000 examples), so there the filter is written
        `study_id + 0` (SQLite's documented way to keep a term off an index) and the walk is
        kept between the study's first and last example id (read once, from the trials' index),
        so other studies' examples before and after are never scanned.
        """
        joined = (select(examples, trials.c.number.label("trial_number"))
                  .join(trials, trials.c.id == examples.c.trial_id))
        bounds = None
        if self._is_postgres:
            query = joined.where(trials.c.study_id == study_id)
        else:
            query = joined.where(trials.c.study_id + 0 == study_id)
            bounds = (select(func.min(examples.c.id), func.max(examples.c.id))
                      .join(trials, trials.c.id == examples.c.trial_id).where(trials.c.study_id == study_id))
        return ((row["trial_number"], _example(row)) for row in self._pages(query, examples.c.id, batch, bounds))

    def iter_calls(self, study_id: int, batch: int = 1000) -> Iterator[tuple[int, CallRecord]]:
        query = (select(calls, trials.c.number.label("trial_number"))
                 .join(trials, trials.c.id == calls.c.trial_id).where(calls.c.study_id == study_id))
        return ((row["trial_number"], _call(row)) for row in self._pages(query, calls.c.id, batch))

    def _pages(self, query: Any, key: Any, batch: int, bounds: Any = None) -> Iterator[Mapping[str, Any]]:
        """The rows of `query` in `key` order (a unique column it selects), `batch` rows per read;
        `bounds`, a query of the lowest and highest key, limits the walk to that range.

        Each page is its own short read transaction, fetched whole before anything is yielded:
        no transaction stays open while the caller writes its output (no lock held, no
        snapshot pinned for minutes), and memory holds one page whatever the study's size.
        """
        limit = _batch(batch)  # checked now, not at the first next()

        def pages() -> Iterator[Mapping[str, Any]]:
            ranged, last, high = query, None, None
            if bounds is not None:
                with self._txn(readonly=True) as conn:
                    low, high = conn.execute(bounds).one()
                if low is None:
                    return
                # one lower bound only (key > last): given two, SQLite may start every page at the first
                ranged, last = query.where(key <= high), low - 1
            while True:
                page = ranged if last is None else ranged.where(key > last)
                with self._txn(readonly=True) as conn:
                    rows = conn.execute(page.order_by(key).limit(limit)).mappings().all()
                yield from rows
                if len(rows) < limit:
                    return
                last = rows[-1][key.name]
                if high is not None and last >= high:
                    return

        return pages()

    def study_spent(self, study_id: int) -> float:
        with self._txn(readonly=True) as conn:
            return float(conn.execute(select(func.coalesce(func.sum(calls.c.billed_cost), 0.0)).where(calls.c.study_id == study_id)).scalar_one())

    def spend_by_trial(self, study_id: int) -> dict[int, TrialSpend]:
        query = (select(calls.c.trial_id, func.sum(calls.c.billed_cost), func.sum(calls.c.cost), func.count(),
                        func.sum(calls.c.cache_hit))
                 .where(calls.c.study_id == study_id).group_by(calls.c.trial_id))
        with self._txn(readonly=True) as conn:
            rows = conn.execute(query).all()
        return {int(t): TrialSpend(float(b or 0.0), float(c or 0.0), int(n) - int(h or 0), int(h or 0)) for t, b, c, n, h in rows}

    def cache_get(self, study_id: int, key: str) -> str | None:
        """The cached response for `key`, or None.

        Called before every LLM call, in the study's event loop, and nearly always a miss, so
        misses are answered from memory: the study's keys are read once (keys only), entries
        this object writes are added as they commit, and on a miss the keys are re-read when
        the view is older than a few seconds (entries written by other processes). A miss on a
        stale view only costs the call; a key in the view is read from the database, which
        stays the one source of answers.
        """
        view = self._cache_keys.get(study_id)
        if view is None or (key not in view.keys and time.monotonic() >= view.refresh_at):
            view = self._load_cache_keys(study_id)
        if key not in view.keys:
            return None
        with self._txn(readonly=True) as conn:
            return conn.execute(select(cache.c.response_json).where(cache.c.study_id == study_id, cache.c.key == key)).scalar()

    def _load_cache_keys(self, study_id: int) -> _CacheKeys:
        with self._cache_keys_lock:  # writers wait: a key committed meanwhile lands in the new view
            started = time.monotonic()
            with self._txn(readonly=True) as conn:
                keys = set(conn.execute(select(cache.c.key).where(cache.c.study_id == study_id)).scalars())
            now = time.monotonic()
            view = _CacheKeys(keys, now + max(_CACHE_VIEW_REFRESH, _CACHE_VIEW_DUTY * (now - started)))
            self._cache_keys[study_id] = view
            return view

    def _cache_keys_known(self, study_id: int, keys: Iterable[str]) -> None:
        with self._cache_keys_lock:
            view = self._cache_keys.get(study_id)
            if view is not None:
                view.keys.update(keys)


class _CacheKeys:
    """The keys of one study's cache as last read (plus those written since), and when to re-read."""

    __slots__ = ("keys", "refresh_at")

    def __init__(self, keys: set[str], refresh_at: float) -> None:
        self.keys, self.refresh_at = keys, refresh_at


def _batch(batch: int) -> int:
    if isinstance(batch, bool) or not isinstance(batch, int) or batch < 1:
        raise StudyError(f"batch must be a positive whole number of rows, got {batch!r}", "pass e.g. batch=1000")
    return batch


def _example(r: Mapping[str, Any]) -> ExampleResult:
    return ExampleResult(
        example_id=r["example_id"], metrics=codec.loads(r["metrics_json"]), cost=r["cost"], latency=r["latency"],
        prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"], error=r["error"],
        created_at=_dt(r["created_at"]), billed_cost=r["billed_cost"], output=r["output"],
        n_calls=r["n_calls"], cache_hits=r["cache_hits"],
    )


def _call(r: Mapping[str, Any]) -> CallRecord:
    return CallRecord(
        model=r["model"], prompt_tokens=r["prompt_tokens"], completion_tokens=r["completion_tokens"], cost=r["cost"],
        billed_cost=r["billed_cost"], latency=r["latency"], cache_hit=bool(r["cache_hit"]), error=r["error"],
        example_id=r["example_id"], status=r["status"], error_class=r["error_class"], attempt=r["attempt"],
        maybe_billed=bool(r["maybe_billed"]),
    )


def _record(row: Mapping[str, Any]) -> TrialRecord:
    return TrialRecord(
        number=row["number"],
        state=TrialState(row["state"]),
        params=codec.loads(row["params_json"]),
        fingerprint=row["fingerprint"],
        values=codec.loads(row["values_json"]),
        error=row["error"],
        sample_index=row["sample_index"],
        attempts=row["attempts"],
        created_at=_dt(row["created_at"]),
        started_at=_dt(row["started_at"]),
        finished_at=_dt(row["finished_at"]),
        user_attrs=codec.loads(row["user_attrs_json"]),
        system_attrs=codec.loads(row["system_attrs_json"]),
        trial_id=row["id"],
    )
