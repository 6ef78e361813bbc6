"""Search space of a small prompt pipeline on a local model: template, few-shot demos, strategy, sampling.

Load it by path: `llmopt optimize --space spaces/prompt_qa.py --objective objectives/local_qa.py`.
"""

from llmopt import ChoiceVar, FloatVar, Forbid, IntVar, ModuleOption, ModuleVar, Space

SPACE = Space(
    {
        "template": ChoiceVar(["plain", "short_answer", "expert"]),
        "n_demos": IntVar(0, 3),
        "strategy": ModuleVar(
            {
                "direct": None,
                # Chain of thought: reason first, then "Answer: ..."; it needs room to think.
                "cot": ModuleOption(params={"reasoning_tokens": ChoiceVar([48, 96])}),
            }
        ),
        "temperature": FloatVar(0.0, 1.0, step=0.25),
        "max_tokens": ChoiceVar([8, 16, 32]),
    },
    constraints=[
        # A hot chain of thought from a 135M model wanders off: keep reasoning near-greedy.
        Forbid({"strategy": "cot", "temperature": [0.75, 1.0]}),
    ],
)
