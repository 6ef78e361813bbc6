"""Evaluation sets: examples with unique ids, loaded from JSONL or built in Python.

>>> data = Dataset([{"id": "q1", "question": "2+2?", "answer": "4"}])
>>> data["q1"].answer
'4'
>>> data.order(seed=0)
['q1']
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from llmopt.errors import DatasetError


@dataclass(frozen=True)
class Example:
    """One evaluation example: its id, its inputs and its expected answer (`fields["answer"]`)."""

    id: str
    fields: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        try:
            return self.fields[key]
        except KeyError:
            raise KeyError(f"example {self.id!r} has no field {key!r} (it has {sorted(self.fields)})") from None

    def __getattr__(self, key: str) -> Any:
        if key.startswith("_") or key in ("id", "fields"):
            raise AttributeError(key)
        try:
            return self.fields[key]
        except KeyError:
            raise AttributeError(f"example {self.id!r} has no field {key!r} (it has {sorted(self.fields)})") from None

    def get(self, key: str, default: Any = None) -> Any:
        return self.fields.get(key, default)


class Dataset(Sequence[Example]):
    """An ordered evaluation set; ids are unique and every example has the `required` fields."""

    def __init__(
        self, examples: Iterable[Example | Mapping[str, Any]], *, id_field: str = "id", required: Sequence[str] = ()
    ) -> None:
        self.examples: list[Example] = []
        seen: dict[str, int] = {}
        for index, item in enumerate(examples):
            example = item if isinstance(item, Example) else _from_mapping(item, index, id_field)
            missing = [f for f in required if f not in example.fields]
            if missing:
                raise DatasetError(
                    f"example {example.id!r} (item {index}) lacks required field(s) {missing}",
                    f"add {missing} to every example, or drop them from required=",
                )
            if example.id in seen:
                raise DatasetError(
                    f"duplicate example id {example.id!r} (items {seen[example.id]} and {index})",
                    "give every example a unique id: results are stored and resumed by id",
                )
            seen[example.id] = index
            self.examples.append(example)
        if not self.examples:
            raise DatasetError("the evaluation set is empty", "give at least one example")
        self._by_id = {e.id: e for e in self.examples}

    def __len__(self) -> int:
        return len(self.examples)

    def __getitem__(self, key: Any) -> Any:
        if isinstance(key, str):
            return self._by_id[key]
        return self.examples[key]

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    @property
    def ids(self) -> list[str]:
        return [e.id for e in self.examples]

    def order(self, seed: int) -> list[str]:
        """The study-wide evaluation order: one shuffle per study seed, so trials are paired on the same examples."""
        rng = np.random.default_rng([seed, 0x5EED])
        return [self.examples[i].id for i in rng.permutation(len(self.examples))]

    @classmethod
    def from_jsonl(cls, path: str | Path, *, id_field: str = "id", required: Sequence[str] = ()) -> Dataset:
        """Load one JSON object per line; errors name the file and line."""
        path = Path(path)
        if not path.exists():
            raise DatasetError(f"no evaluation set at {path}", "check the path (relative paths start at the working directory)")
        rows: list[Example] = []
        with path.open(encoding="utf-8") as handle:
            for line_no, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise DatasetError(f"{path}:{line_no}: not valid JSON ({exc.msg})", "write one JSON object per line") from None
                if not isinstance(obj, dict):
                    raise DatasetError(f"{path}:{line_no}: expected a JSON object, got {type(obj).__name__}", "write one object per line")
                rows.append(_from_mapping(obj, line_no, id_field, where=f"{path}:{line_no}"))
        return cls(rows, id_field=id_field, required=required)


def _from_mapping(item: Mapping[str, Any], index: int, id_field: str, where: str | None = None) -> Example:
    if not isinstance(item, Mapping):
        raise DatasetError(f"item {index} is {type(item).__name__}, not a mapping", "give examples as dicts with an id")
    if id_field not in item or item[id_field] in (None, ""):
        raise DatasetError(
            f"{where or f'item {index}'}: missing id field {id_field!r}",
            f"give every example an {id_field!r}, or pass id_field= naming the field that identifies it",
        )
    fields = {k: v for k, v in item.items() if k != id_field}
    return Example(str(item[id_field]), fields)
