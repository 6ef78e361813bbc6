"""Objective: answer short factual questions with a real local model (SmolLM2-135M via llama-cpp-python).

The evaluation set (objectives/data/tiny_qa.jsonl) was written for llmopt. The model runs on
this machine, so it is priced per second of compute. Uses llmopt's public API only.
"""

from __future__ import annotations

from pathlib import Path

from llmopt import Dataset, Evaluation, LocalModelServer, Price, acomplete

DATA = Dataset.from_jsonl(Path(__file__).parent / "data" / "tiny_qa.jsonl", required=["question", "answer"])
SERVER = LocalModelServer()  # started around the study by `llmopt optimize` (see SERVICES)
SERVICES = [SERVER]

TEMPLATES = {
    "plain": "{question}",
    "short_answer": "Answer with one word or one number.\nQuestion: {question}\nAnswer:",
    "expert": "You are a careful teacher. Give the correct answer in as few words as possible.\n{question}",
}
DEMOS = [
    ("What is the capital of England?", "London"),
    ("How many wheels does a bicycle have?", "2"),
    ("What color is a banana?", "yellow"),
]
COT = "Think step by step in one or two short sentences, then write 'Answer:' followed by the answer."


def messages(config, question: str) -> list[dict[str, str]]:
    template = TEMPLATES[config["template"]]
    chat: list[dict[str, str]] = []
    if config["strategy"] == "cot":
        chat.append({"role": "system", "content": COT})
    for demo_q, demo_a in DEMOS[: config["n_demos"]]:
        chat += [{"role": "user", "content": template.format(question=demo_q)}, {"role": "assistant", "content": demo_a}]
    chat.append({"role": "user", "content": template.format(question=question)})
    return chat


async def pipeline(config, example) -> str:
    cot = config["strategy"] == "cot"
    max_tokens = config["max_tokens"] + (config["strategy.cot.reasoning_tokens"] if cot else 0)
    reply = await acomplete(SERVER.model, messages(config, example.question), api_base=SERVER.api_base, api_key="local",
                            temperature=config["temperature"], max_tokens=max_tokens)
    text = reply.text
    return text.rsplit("Answer:", 1)[-1] if cot else text


EVALUATION = Evaluation(
    DATA,
    pipeline,
    "contains",
    objectives=["accuracy", "cost", "latency_p95"],
    extra_measures=["tokens", "error_rate"],
    prices={SERVER.model: Price(per_second=0.0001)},  # about $0.36 per hour of a small CPU machine
    max_concurrent_examples=2,
)
