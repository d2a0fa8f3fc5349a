"""Write a persistent rabbitmq-consumer handler in Python.

A persistent handler (contract.json: "mode": "persistent") is started once
and answers many requests over its stdin and stdout, one JSON message per
line, after a handshake line: the protocol rabbitmq-consumer/1 of
docs/handlers.md. This module speaks it, with nothing but the standard
library (Python 3.9+)::

    #!/usr/bin/python3
    from rabbitmq_consumer_handler import reply, serve

    def handle(request, meta):
        return reply(True, "Greeted", {"greeting": "hello " + request["name"]})

    serve(handle)

serve(fn) writes the handshake, then calls fn(request, meta) for each
request and writes its return value (a response dict: success, message,
data; reply() builds one) as the response, until stdin ends; then it
returns (the program then ends with status 0).

- An exception in fn (or a return value that is not a dict, or not JSON)
  prints its traceback to stderr (the consumer's log) and answers
  {"success": false, "message": "An unexpected error occurred",
  "data": null}; the process keeps serving. SystemExit and
  KeyboardInterrupt are not caught: they end the process.
- progress(state, message, percent, data), called in fn, reports the
  request's progress to a caller that asked for it.

A one-shot handler (one process per request: the request on stdin, the
response on stdout) may use progress() too: outside serve() it writes the
update to the progress pipe the consumer gives every one-shot handler
(file descriptor RPC_PROGRESS_FD, 3)::

    import json, sys
    from rabbitmq_consumer_handler import progress

    request = json.load(sys.stdin)
    progress("Building", "Compiling", 40)
    json.dump({"success": True, "message": "Built", "data": {}}, sys.stdout)
- stdout is the protocol's channel, so serve() points file descriptor 1 and
  sys.stdout at stderr while it runs: a print() in fn, or a program fn
  starts, writes to the log and cannot corrupt the protocol.
"""

# Few and light imports: a process starts again after every
# max_requests_per_process requests, and its start-up is its largest cost
# (typing and traceback, heavy to import, are not needed to serve).
import collections
import json
import os
import sys
import time

__all__ = ["PROGRESS_FD_VARIABLE", "PROTOCOL", "UNEXPECTED_ERROR", "Meta", "ProtocolError", "RetryLater", "handler", "progress", "reply", "serve"]

PROTOCOL = "rabbitmq-consumer/1"
"""The protocol this module speaks, as named in the handshake."""

UNEXPECTED_ERROR = "An unexpected error occurred"
"""The message of the reply to a request that fn failed."""


class Meta(collections.namedtuple("Meta", "correlation_id exchange virtual_host redelivered deadline attempt", defaults=(1,))):
    """A request's metadata from its request line.

    correlation_id: the caller's correlation id (str).
    exchange: the exchange the request was published to (str).
    virtual_host: the consumer's virtual host (str).
    redelivered: True when the broker delivered the request before.
    deadline: the caller's deadline in Unix milliseconds (int), or None.
    attempt: the run of the request: 1, then 2 after one RetryLater, ...
    """

    __slots__ = ()

    def seconds_left(self):
        """Seconds until the caller's deadline (negative when past), or None."""
        if self.deadline is None:
            return None
        return self.deadline / 1000 - time.time()


class RetryLater(Exception):
    """Raise RetryLater(seconds) in fn to say "not now": the consumer runs the request again after that delay.

    The consumer publishes the request again a bounded number of times; then
    the caller gets the unexpected error.
    """

    def __init__(self, seconds):
        super().__init__("retry later, after %s s" % (seconds,))
        self.seconds = float(seconds)


class ProtocolError(Exception):
    """A line from the consumer that is not a request of the protocol."""


def reply(success, message, data=None):
    """A response dict: {"success": success, "message": message, "data": data}."""
    return {"success": bool(success), "message": str(message), "data": data}


# The request being served: (stdout, correlation_id), or None between requests.
_current = None

# True while serve() runs: a persistent handler has no progress pipe.
_serving = False


PROGRESS_FD_VARIABLE = "RPC_PROGRESS_FD"
"""The environment variable naming a one-shot handler's progress pipe."""


def progress(state, message="", percent=None, data=None):
    """Report progress of the request being handled, e.g. progress("Building", "Compiling", 40).

    state: a short word for the phase (str); message: what happens (str);
    percent: how much is done, 0 to 100, or None; data: any JSON value, or
    None. The consumer passes it on to a caller that asked for progress
    (rate-limited, the latest update wins) and drops it otherwise.

    In a persistent handler, call it from fn (its thread) while it runs: it
    writes a progress line of the protocol. In a one-shot handler (outside
    serve) it writes the update as one line to the file descriptor
    RPC_PROGRESS_FD names. Elsewhere (between requests, or with no progress
    pipe) it does nothing.
    """
    update = {"state": str(state), "message": str(message)}
    if percent is not None:
        update["percent"] = float(percent)
    if data is not None:
        update["data"] = data
    current = _current
    if current is None:
        _progress_to_pipe(update)
        return
    out, correlation_id = current
    out.write(_encode({"correlation_id": correlation_id, "progress": update}))
    out.flush()


def _progress_to_pipe(update):
    """Write update to a one-shot handler's progress pipe, if it has one.

    One os.write of one line: a line of up to 4096 bytes (PIPE_BUF) is never
    mixed with another process's. A pipe the consumer no longer reads
    (EPIPE), or a descriptor that is not open, drops the update.
    """
    fd = os.environ.get(PROGRESS_FD_VARIABLE)
    if not fd or _serving:
        return
    try:
        line = _encode(update)
        fd = int(fd)
        while line:
            line = line[os.write(fd, line):]
    except (OSError, ValueError):
        pass


def _unexpected():
    return {"success": False, "message": UNEXPECTED_ERROR, "data": None}


# Compact (no newline inside a message), strict JSON (no NaN). Made once:
# json.dumps with these arguments would make an encoder per message.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)
_DECODER = json.JSONDecoder()


def _encode(obj):
    return _ENCODER.encode(obj).encode("utf-8") + b"\n"


def _answer(fn, message, err):
    """The response line for one request line."""
    correlation_id = message["correlation_id"]
    get = message.get
    meta = Meta(correlation_id, get("exchange", ""), get("virtual_host", ""), bool(get("redelivered", False)), get("deadline"), get("attempt", 1))
    try:
        response = fn(message.get("request"), meta)
        if not isinstance(response, dict):
            raise TypeError("the handler returned %r, not a response dict (success, message, data)" % (response,))
        return _encode({"correlation_id": correlation_id, "response": response})
    except RetryLater as later:
        return _encode({"correlation_id": correlation_id, "retry_after_seconds": later.seconds})
    except Exception:
        import traceback  # only on failure: costly to import

        traceback.print_exc(file=err)
        err.flush()
        return _encode({"correlation_id": correlation_id, "response": _unexpected()})


def _loop(fn, stdin, stdout, err):
    global _serving
    _serving = True
    try:
        _serve_lines(fn, stdin, stdout, err)
    finally:
        _serving = False


def _serve_lines(fn, stdin, stdout, err):
    stdout.write(_encode({"protocol": PROTOCOL}))
    stdout.flush()
    while True:
        line = stdin.readline()
        if not line:
            return
        try:
            message = _DECODER.decode(line.decode("utf-8"))
        except ValueError as e:
            raise ProtocolError("a line that is not JSON: %.100r" % (line,)) from e
        if not isinstance(message, dict) or not isinstance(message.get("correlation_id"), str):
            raise ProtocolError("a line that is not a request: %.100r" % (line,))
        global _current
        _current = (stdout, message["correlation_id"])
        try:
            line = _answer(fn, message, err)
        finally:
            _current = None
        stdout.write(line)
        stdout.flush()


def serve(fn, stdin=None, stdout=None):
    """Answer the consumer's requests with fn(request, meta) until stdin ends.

    stdin and stdout (binary streams) default to the process's own; then
    file descriptor 1 and sys.stdout point at stderr while serve runs, so
    nothing but the protocol reaches the consumer. Raises ProtocolError on
    a line that is not a request (the consumer never sends one).
    """
    if stdin is not None or stdout is not None:
        _loop(fn, stdin or sys.stdin.buffer, stdout or sys.stdout.buffer, sys.stderr)
        return
    channel = os.dup(1)  # not inherited by programs fn starts
    saved = sys.stdout
    try:
        os.dup2(2, 1)
        if saved is not None:
            saved.flush()  # what was printed before serve goes to stderr too
        sys.stdout = sys.stderr
        with open(channel, "wb", closefd=False) as out:
            _loop(fn, sys.stdin.buffer, out, sys.stderr)
    finally:
        sys.stdout = saved
        os.dup2(channel, 1)
        os.close(channel)


def handler(fn):
    """Decorator form of serve: serves with fn when defined in the program run.

    In the handler program itself (module __main__) it serves right away and
    then ends the process with status 0 when stdin ends, so the decorated
    function must come last in the file. Imported (e.g. by a test), it
    returns fn unchanged.
    """
    if getattr(fn, "__module__", None) == "__main__":
        serve(fn)
        sys.exit(0)
    return fn
