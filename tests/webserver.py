"""Real servers on 127.0.0.1 for the web tests: uvicorn in a thread, or ``moodbridge serve`` in a subprocess."""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = os.environ.get("MOODBRIDGE_SCREENSHOTS")  # also copy the tests' screenshots here (docs/figures)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_for_port(port: int, timeout: float = 120.0, proc: subprocess.Popen | None = None) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}: {proc.stderr.read() if proc.stderr else ''}")
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


@contextmanager
def thread_server(config) -> Iterator[str]:
    """The app for ``config`` served by uvicorn in a thread; yields the base URL."""
    import uvicorn

    from moodbridge.web import create_app

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(config), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for_port(port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


class ServeProcess:
    """``python -m moodbridge serve …`` in a subprocess (to be killed)."""

    def __init__(self, *args: str, port: int | None = None) -> None:
        self.port = port or free_port()
        self.args = [sys.executable, "-m", "moodbridge", "serve", *args, "--port", str(self.port)]
        self.proc: subprocess.Popen | None = None
        self.token: str | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "ServeProcess":
        env = {**os.environ, "OMP_NUM_THREADS": "1"}
        self.proc = subprocess.Popen(self.args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        wait_for_port(self.port, proc=self.proc)
        lines = []
        while self.token is None:
            line = self.proc.stdout.readline()
            lines.append(line)
            m = re.search(r"research\?token=(\S+)", line)
            if m:
                self.token = m.group(1)
            elif not line:
                raise RuntimeError("no token printed: " + "".join(lines))
        return self

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def raw_get(port: int, target: str) -> tuple[int, bytes]:
    """Status and body of ``GET target`` sent byte for byte (no client-side normalisation of ``..``)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode("latin-1"))
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


def save_screenshot(page, path: Path, name: str) -> Path:
    """A full-page PNG in ``path``, copied to ``$MOODBRIDGE_SCREENSHOTS`` when set."""
    out = path / name
    page.screenshot(path=str(out), full_page=True)
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out, Path(SCREENSHOTS) / name)
    return out


@contextmanager
def browser() -> Iterator[object]:
    """Debian's headless Chromium via Playwright (the caller skips when it is missing)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()
