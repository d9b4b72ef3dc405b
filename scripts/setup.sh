#!/usr/bin/env bash
# Set up everything moodbridge needs, from nothing, in ./.venv (idempotent: a second run is quick).
# torch goes in first, pinned, so that no other package pulls a CUDA build of it.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
if [ ! -x .venv/bin/python ]; then
  if ! "$PYTHON" -m venv .venv 2>/dev/null; then  # Debian ships venv's pip separately
    rm -rf .venv
    $SUDO apt-get update -qq
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null
    "$PYTHON" -m venv .venv
  fi
fi
PIP=(.venv/bin/python -m pip install --quiet --disable-pip-version-check)
"${PIP[@]}" "torch==2.13.0"
"${PIP[@]}" -e ".[test,ray]"
# musicnn's wheel carries the trained checkpoints; its own dependencies (TensorFlow) are not needed.
"${PIP[@]}" --no-deps "musicnn==0.1.0"
# tinysoundfont renders generated MIDI to WAV; its one dependency, PyAudio (live playback, which
# moodbridge never uses), needs PortAudio headers to build, so it is left out.
"${PIP[@]}" --no-deps "tinysoundfont==0.3.7"
# Debian packages the tests use: chromium (a real headless browser for the HTML report, driven by
# Playwright; Playwright's own browser download is not used) and wesnoth-1.16-music (41 full-length
# orchestral OGG tracks for the EMID expansion tests).
APT_PACKAGES=()
command -v chromium >/dev/null 2>&1 || APT_PACKAGES+=(chromium fonts-dejavu-core)
[ -d /usr/share/games/wesnoth/1.16/data/core/music ] || APT_PACKAGES+=(wesnoth-1.16-music)
if [ ${#APT_PACKAGES[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${APT_PACKAGES[@]}" >/dev/null
fi
