"""The HTML report on a large study: file size, time to write it, time for Chromium to draw it.

A study of N trials x E examples each (per-example records, so every point has intervals),
three objectives and a conditional space, is built once into a SQLite file; then the report
is written R times and opened in headless Chromium (Debian's chromium + chromium-driver)
R times, timing from navigation until every plot has drawn its SVG.

    python benchmarks/bench_report.py --trials 1000 --examples 20
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import llmopt  # noqa: E402
from llmopt import ChoiceVar, FloatVar, IntVar, ModuleOption, ModuleVar, RandomSampler, Space  # noqa: E402

SPACE = Space({
    "model": ChoiceVar(["tiny", "small", "large"]),
    "template": ChoiceVar(["plain", "expert", "concise"]),
    "temperature": FloatVar(0.0, 1.0),
    "max_tokens": IntVar(32, 512, log=True),
    "strategy": ModuleVar({"direct": None, "cot": ModuleOption(params={"steps": IntVar(1, 6)})}),
})
SKILL = {"tiny": -0.5, "small": 0.5, "large": 1.5}
PRICE = {"tiny": 1e-5, "small": 5e-5, "large": 3e-4}


def objective_for(n_examples: int):
    def objective(trial):
        c = trial.config
        logit = SKILL[c["model"]] - 0.8 * c["temperature"] + (0.2 if c["template"] == "expert" else 0.0)
        steps = c["strategy.cot.steps"] if c["strategy"] == "cot" else 0
        logit += 0.15 * steps
        scores, costs, latencies = [], [], []
        for i in range(n_examples):
            u = ((trial.number * 7919 + i * 104729) % 1000) / 1000
            score = float(u < 1 / (1 + math.exp(-(logit - 1.5 + 3 * i / n_examples))))
            cost = PRICE[c["model"]] * (1 + steps) * (0.8 + 0.4 * u)
            latency = 0.2 + 0.002 * c["max_tokens"] * (1 + steps) * (0.5 + u)
            trial.record_example(f"q{i}", {"score": score}, cost=cost, latency=latency)
            scores.append(score), costs.append(cost), latencies.append(latency)
        latencies.sort()
        p95 = statistics.quantiles(latencies, n=100, method="inclusive")[94]
        return {"accuracy": sum(scores) / n_examples, "cost": sum(costs) / n_examples, "latency_p95": p95}
    return objective


def render_seconds(page: Path, repeats: int) -> list[float]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = shutil.which("chromium") or ""
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(shutil.which("chromedriver") or ""), options=options)
    plots = ["pareto", "pairs", "hypervolume", "importance", "effects"]
    check = " && ".join(f"document.querySelector('#plot-{p} .main-svg')" for p in plots)
    out = []
    try:
        for _ in range(repeats):
            driver.get("about:blank")
            start = time.perf_counter()
            driver.get(page.as_uri())
            while not driver.execute_script(f"return !!({check})"):
                time.sleep(0.01)
            out.append(time.perf_counter() - start)
    finally:
        driver.quit()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=1000)
    parser.add_argument("--examples", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-report-"))
    db = work / "study.db"
    start = time.perf_counter()
    with llmopt.create_study("bench", SPACE, {"accuracy": "maximize", "cost": "minimize", "latency_p95": "minimize"},
                             storage=str(db), seed=0, sampler=RandomSampler()) as study:
        study.optimize(objective_for(args.examples), n_trials=args.trials)
    built = time.perf_counter() - start
    writes = []
    with llmopt.load_study("bench", storage=str(db)) as study:
        for _ in range(args.repeats):
            start = time.perf_counter()
            page = study.write_report(work / "report.html")
            writes.append(time.perf_counter() - start)
    renders = render_seconds(page, args.repeats)
    size = page.stat().st_size
    print(f"study: {args.trials} trials x {args.examples} examples (built in {built:.0f} s)")
    print("| measure | median | runs |")
    print("|---|---|---|")
    print(f"| HTML file size | {size / 1e6:.2f} MB | - |")
    print(f"| write_report (read storage, build page) | {statistics.median(writes):.2f} s | {', '.join(f'{w:.2f}' for w in writes)} |")
    print(f"| Chromium: navigation to every plot drawn | {statistics.median(renders):.2f} s | {', '.join(f'{r:.2f}' for r in renders)} |")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
