"""A real ``medsynth reading serve`` process on a free loopback port, and a tiny HTTP client."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def invite(session: Path, reader: str | None) -> str:
    """The token of a fresh invite (``None``: the lead's)."""
    args = ["--lead"] if reader is None else [reader]
    out = subprocess.run([sys.executable, "-m", "medsynth", "reading", "invite", str(session), *args],
                         capture_output=True, text=True, check=True).stdout.strip()
    return out.rsplit("/", 1)[1]


class Server:
    """``medsynth reading serve SESSION`` in a child process."""

    def __init__(self, session: Path, port: int | None = None):
        self.session, self.port = session, port or free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def start(self) -> "Server":
        self.process = subprocess.Popen([sys.executable, "-m", "medsynth", "reading", "serve", str(self.session),
                                         "--port", str(self.port)], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                if self.process.poll() is not None:
                    raise RuntimeError(self.process.stderr.read().decode())
                time.sleep(0.1)
        raise RuntimeError("server did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


def request(url: str, body: dict | None = None, headers: dict | None = None) -> tuple[int, dict, bytes]:
    """``(status, headers, body)``; JSON POST when ``body`` is given (with the CSRF header unless overridden)."""
    data = None if body is None else json.dumps(body).encode()
    all_headers = {"Content-Type": "application/json", "X-MedSynth": "1"} if body is not None else {}
    all_headers.update(headers or {})
    req = urllib.request.Request(url, data=data, headers=all_headers, method="POST" if body is not None else "GET")
    try:
        with urllib.request.urlopen(req, timeout=30) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()
