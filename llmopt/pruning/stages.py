"""Stage schedules: after how many scored examples the evaluation loop asks the pruner."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from llmopt.errors import StudyError


@dataclass(frozen=True)
class Stages:
    """Decision points as counts of examples scored: geometric, every k, or an explicit list.

    Boundaries lie strictly inside the set; the full set is the last stage and needs no decision.

    >>> Stages.geometric(first=10, factor=2).boundaries(200)
    [10, 20, 40, 80, 160]
    >>> Stages.every(50).boundaries(200)
    [50, 100, 150]
    >>> Stages.explicit([40, 10, 400]).boundaries(200)
    [10, 40]
    """

    kind: str
    first: int = 10
    factor: float = 2.0
    k: int = 0
    counts: tuple[int, ...] = ()

    @classmethod
    def geometric(cls, first: int = 10, factor: float = 2.0) -> Stages:
        """first, first x factor, ...: cheap early looks, few looks overall."""
        if not isinstance(first, int) or first < 1 or not factor > 1:
            raise StudyError(f"Stages.geometric needs an integer first >= 1 and factor > 1, got first={first!r}, factor={factor!r}",
                             "e.g. Stages.geometric(first=10, factor=2): 10, 20, 40, 80...")
        return cls("geometric", first=first, factor=float(factor))

    @classmethod
    def every(cls, k: int) -> Stages:
        """Every k examples: the anytime-valid pruners lose nothing by looking often."""
        if not isinstance(k, int) or k < 1:
            raise StudyError(f"Stages.every needs an integer k >= 1, got k={k!r}", "e.g. Stages.every(10)")
        return cls("every", k=k)

    @classmethod
    def explicit(cls, counts: Sequence[int]) -> Stages:
        """Exactly these example counts."""
        if not counts or any(not isinstance(c, int) or isinstance(c, bool) or c < 1 for c in counts):
            raise StudyError(f"Stages.explicit needs a non-empty list of positive example counts, got {list(counts)!r}",
                             "e.g. Stages.explicit([10, 20, 40, 80])")
        return cls("explicit", counts=tuple(sorted(set(counts))))

    def boundaries(self, n_total: int) -> list[int]:
        """The decision points for an evaluation set of `n_total` examples, ascending."""
        if self.kind == "every":
            points = list(range(self.k, n_total, self.k))
        elif self.kind == "explicit":
            points = list(self.counts)
        else:
            points, n = [], float(self.first)
            while n < n_total:
                points.append(int(round(n)))
                n *= self.factor
        return sorted({p for p in points if 0 < p < n_total})

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe settings; `Stages.from_dict` rebuilds them."""
        if self.kind == "every":
            return {"kind": "every", "k": self.k}
        if self.kind == "explicit":
            return {"kind": "explicit", "counts": list(self.counts)}
        return {"kind": "geometric", "first": self.first, "factor": self.factor}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Stages:
        settings = dict(data)
        kind = settings.pop("kind", None)
        makers = {"every": cls.every, "explicit": cls.explicit, "geometric": cls.geometric}
        if kind not in makers:
            raise StudyError(f"unknown stage schedule {kind!r}", f"use one of {sorted(makers)}")
        return makers[kind](**settings)
