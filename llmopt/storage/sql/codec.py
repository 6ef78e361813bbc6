"""JSON encoding for stored values: non-finite floats are written explicitly, never as NULL."""

from __future__ import annotations

import json
import math
from typing import Any

_SPECIAL = {"inf": math.inf, "-inf": -math.inf, "nan": math.nan}


def _encode(obj: Any) -> Any:
    if isinstance(obj, float) and not math.isfinite(obj):
        return {"__float__": "nan" if math.isnan(obj) else ("inf" if obj > 0 else "-inf")}
    if isinstance(obj, dict):
        return {str(k): _encode(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_encode(v) for v in obj]
    return obj


def _decode_hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and "__float__" in obj:
        return _SPECIAL[obj["__float__"]]
    return obj


def dumps(obj: Any) -> str:
    """JSON text; inf/NaN become {"__float__": "inf"} so every database keeps them."""
    return json.dumps(_encode(obj), separators=(",", ":"), allow_nan=False, default=str)


def loads(text: str | None) -> Any:
    return None if text is None else json.loads(text, object_hook=_decode_hook)
