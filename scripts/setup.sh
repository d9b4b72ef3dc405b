#!/usr/bin/env bash
# Set up everything moodbridge needs, from nothing, in ./.venv (idempotent: a second run is quick).
# torch goes in first, pinned, so that no other package pulls a CUDA build of it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e ".[test]"
# musicnn's wheel carries the trained checkpoints; its own dependencies (TensorFlow) are not needed.
"${PIP[@]}" --no-deps "musicnn==0.1.0"
# A real headless browser for the report tests: Debian's chromium, driven by Playwright
# (Playwright's own browser download is not used; the tests launch /usr/bin/chromium).
if ! command -v chromium >/dev/null 2>&1; then
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-dejavu-core >/dev/null
fi
