"""The `>>>` examples in llmopt's docstrings run and print what they claim."""

from __future__ import annotations

import doctest
import importlib
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "llmopt"
MODULES = sorted(
    ".".join(("llmopt", *p.relative_to(PACKAGE).with_suffix("").parts)).removesuffix(".__init__")
    for p in PACKAGE.rglob("*.py")
    if ">>>" in p.read_text()
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)
    import llmopt

    globs = {name: getattr(llmopt, name) for name in llmopt.__all__}
    result = doctest.testmod(module, extraglobs=globs, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
