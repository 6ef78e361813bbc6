"""The public API: `__all__` sorted and complete, and `import llmopt` stays light."""

from __future__ import annotations

import subprocess
import sys

import llmopt


def test_all_is_sorted_and_every_name_resolves() -> None:
    assert llmopt.__all__ == sorted(llmopt.__all__)
    for name in llmopt.__all__:
        assert getattr(llmopt, name) is not None


def test_all_is_the_list_the_readme_documents() -> None:
    """README's "API at a glance" names exactly the top-level API: nothing undocumented, nothing missing."""
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    section = readme.split("## API at a glance", 1)[1].split("\n## ", 1)[0]
    listed = section.split("Records and the rest", 1)[0]
    documented = set(re.findall(r"`([A-Za-z_][A-Za-z0-9_]*)`", listed)) - {"llmopt"}
    assert documented == set(llmopt.__all__), (sorted(documented - set(llmopt.__all__)), sorted(set(llmopt.__all__) - documented))


def test_public_classes_are_exported() -> None:
    import llmopt.samplers
    import llmopt.space

    for module in (llmopt.space, llmopt.samplers):
        for name in module.__all__:
            if name[0].isupper() and name not in {"Leaf", "ChosenModule", "SAMPLERS"}:
                assert name in llmopt.__all__, f"{module.__name__}.{name} missing from llmopt.__all__"


def test_import_does_not_load_heavy_dependencies() -> None:
    code = "import sys, llmopt; print(','.join(m for m in ('sqlalchemy', 'litellm', 'numpy', 'pydantic') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_creating_a_study_does_not_import_litellm() -> None:
    code = (
        "import sys, llmopt\n"
        "s = llmopt.create_study('x', llmopt.Space({'a': llmopt.IntVar(0, 3)}), {'v': 'maximize'}, storage=':memory:')\n"
        "s.optimize(lambda t: t.config['a'], n_trials=3)\n"
        "print('litellm' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
