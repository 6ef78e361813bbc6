"""Search space of a small question-answering prompt pipeline: model, strategy, sampling, demos.

Load it by path: `llmopt optimize --space spaces/qa_pipeline.py ...`.
"""

from llmopt import ChoiceVar, FloatVar, Forbid, Implies, IntVar, ModuleOption, ModuleVar, Space

SPACE = Space(
    {
        "model": ChoiceVar(["tiny-1b", "small-8b", "large-70b"]),
        "template": ChoiceVar(["plain", "expert", "concise"]),
        "strategy": ModuleVar(
            {
                "direct": None,
                "cot": ModuleOption(params={"reasoning_tokens": IntVar(64, 512, log=True)}),
                "self_consistency": ModuleOption(params={"samples": IntVar(3, 7, step=2)}),
            }
        ),
        "temperature": FloatVar(0.0, 1.2, step=0.1),
        "max_tokens": IntVar(32, 256, log=True),
        "n_demos": IntVar(0, 8),
    },
    constraints=[
        # Sampling several answers at temperature 0 returns one answer several times.
        Forbid({"strategy": "self_consistency", "temperature": [0.0, 0.1]}),
        # The tiny model cannot follow a long reasoning format.
        Implies({"model": "tiny-1b"}, {"strategy": ["direct", "self_consistency"]}),
    ],
)
