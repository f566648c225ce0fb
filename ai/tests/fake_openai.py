"""A small OpenAI-compatible server on 127.0.0.1 for tests: the AI endpoint at its edge.

It answers `POST /v1/chat/completions` as JSON, or as server-sent events
when the body asks for `"stream": true` (text in chunks, then a usage chunk
with no choices when `stream_options.include_usage` is set). Every request
body is recorded in `requests`. `fail_with` scripts the next answers:
"500", "429", "slow" (nothing for longer than any test deadline) and
"drop" (a streamed answer cut off after its first chunk).

    fake = serve_for(self)   # in a TestCase: started, AI_* pointed at it, undone after
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from django.test import SimpleTestCase, override_settings

MODEL = "fake-model"


class FakeOpenAI:
    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.answer = "Photosynthesis turns light into sugar."
        self.prompt_tokens = 1200
        self.completion_tokens = 300
        self.report_usage = True
        self.fail_with = ""
        self.slow_seconds = 3.0
        # A pause before each streamed word after the first, to watch an answer being written.
        self.word_seconds = 0.0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> "FakeOpenAI":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _usage(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.prompt_tokens + self.completion_tokens,
        }

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append(body)
                fake.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.path != "/v1/chat/completions":
                    return self._json(404, {"error": {"message": "not found"}})
                failure = fake.fail_with
                if failure == "500":
                    return self._json(500, {"error": {"message": "boom"}})
                if failure == "429":
                    return self._json(429, {"error": {"message": "slow down"}})
                if failure == "slow":
                    time.sleep(fake.slow_seconds)
                if body.get("stream"):
                    return self._stream(body, drop=failure == "drop")
                answer: dict[str, Any] = {
                    "id": "chatcmpl-1",
                    "object": "chat.completion",
                    "created": 0,
                    "model": MODEL,
                    "choices": [
                        {
                            "index": 0,
                            "finish_reason": "stop",
                            "message": {"role": "assistant", "content": fake.answer},
                        }
                    ],
                }
                if fake.report_usage:
                    answer["usage"] = fake._usage()
                self._json(200, answer)

            def _json(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _event(self, payload: dict[str, Any] | str) -> None:
                text = payload if isinstance(payload, str) else json.dumps(payload)
                line = f"data: {text}\n\n".encode()
                self.wfile.write(f"{len(line):x}\r\n".encode() + line + b"\r\n")
                self.wfile.flush()

            def _stream(self, body: dict[str, Any], *, drop: bool) -> None:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                words = fake.answer.split(" ")
                for n, word in enumerate(words):
                    text = word if n == 0 else " " + word
                    if n and fake.word_seconds:
                        time.sleep(fake.word_seconds)
                    self._event(
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": MODEL,
                            "choices": [{"index": 0, "delta": {"content": text}}],
                        }
                    )
                    if drop:
                        # Cut the connection mid-answer, without the chunked stream's end.
                        self.close_connection = True
                        self.wfile.flush()
                        self.connection.shutdown(2)
                        return
                if fake.report_usage and body.get("stream_options", {}).get("include_usage"):
                    self._event(
                        {
                            "id": "chatcmpl-1",
                            "object": "chat.completion.chunk",
                            "created": 0,
                            "model": MODEL,
                            "choices": [],
                            "usage": fake._usage(),
                        }
                    )
                self._event("[DONE]")
                self.wfile.write(b"0\r\n\r\n")
                self.wfile.flush()

        return Handler


def serve_for(test: SimpleTestCase, *, timeout_seconds: int = 5) -> FakeOpenAI:
    """Start a stand-in for `test`, point AI_* at it, and undo both when the test ends."""
    fake = FakeOpenAI().start()
    test.addCleanup(fake.stop)
    overrides = override_settings(
        AI_BASE_URL=fake.base_url,
        AI_API_KEY="sk-test",
        AI_MODEL="small",
        AI_TIMEOUT_SECONDS=timeout_seconds,
    )
    overrides.enable()
    test.addCleanup(overrides.disable)
    return fake
