"""Cache keys are stored with the study: the same request must give the same key in every version."""

from __future__ import annotations

from llmopt.evaluation.calls import _request_json, _with_sample, cache_key


def test_cache_keys_do_not_change_between_versions() -> None:
    # SHA-256 of json.dumps({"model", "messages", "params", "sample"}, sort_keys=True, separators=(",", ":"), default=str)
    messages = [{"role": "user", "content": "Quelle est la capitale? é"}]
    params = {"temperature": 0.7, "max_tokens": 8, "stop": ["\n"], "api_base": "http://x/v1"}
    assert cache_key("openai/m", messages, params, 2) == "ccf98583dbd394387501bb146eaeed2b804b00be615e8181a78b1f823daa39e1"
    assert cache_key("m", "x", {}, -1) == "5f787301fcaccc65f59498136a6490d42bff206ca31b0305fc2cfc6fd980bea5"


def test_one_encoding_serves_every_sample_index() -> None:
    messages = [{"role": "user", "content": "x"}]
    request = _request_json("m", messages, {"temperature": 0.9})
    assert [_with_sample(request, i) for i in range(3)] == [cache_key("m", messages, {"temperature": 0.9}, i) for i in range(3)]
    assert len({_with_sample(request, i) for i in range(3)}) == 3
