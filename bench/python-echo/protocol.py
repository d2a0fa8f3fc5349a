"""A minimal loop of the persistent handler protocol, version 1
(docs/handlers.md): a handshake line, then one request line in, one
response line out, until stdin closes. Only what the benchmark needs:
operators use the helper shipped with the package."""

import json
import sys

PROTOCOL = "rabbitmq-consumer/1"
UNEXPECTED = {"success": False, "message": "An unexpected error occurred", "data": None}
# Compact: no newline inside a message. Made once (json.dumps with
# arguments makes an encoder per call).
ENCODE = json.JSONEncoder(separators=(",", ":")).encode
DECODE = json.JSONDecoder().decode


def serve(handle):
    """Answer the consumer's requests with handle(request) until stdin closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    stdout.write(json.dumps({"protocol": PROTOCOL}).encode() + b"\n")
    stdout.flush()
    while True:
        line = stdin.readline()
        if not line:
            return
        message = DECODE(line.decode("utf-8"))
        try:
            response = handle(message["request"])
        except Exception:
            import traceback  # only on failure: costly to import

            traceback.print_exc(file=sys.stderr)
            response = UNEXPECTED
        out = {"correlation_id": message["correlation_id"], "response": response}
        stdout.write(ENCODE(out).encode() + b"\n")
        stdout.flush()
