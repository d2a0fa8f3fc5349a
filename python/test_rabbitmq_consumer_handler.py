"""Unit tests of rabbitmq_consumer_handler (python3 -m unittest; go test ./python/ runs them)."""

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
import time
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import rabbitmq_consumer_handler as rch  # noqa: E402

HANDSHAKE = b'{"protocol":"rabbitmq-consumer/1"}\n'
PROGRESS_FD = "RPC_PROGRESS_FD"  # as the consumer names it


def request_line(cid, request, **meta):
    m = {"correlation_id": cid, "exchange": "dx_x", "virtual_host": "v", "redelivered": False, "deadline": None, "request": request}
    m.update(meta)
    return (json.dumps(m) + "\n").encode()


def run(fn, *lines):
    """serve(fn) over in-memory streams: (stdout lines, stderr text)."""
    out, err = io.BytesIO(), io.StringIO()
    with contextlib.redirect_stderr(err):
        rch.serve(fn, stdin=io.BytesIO(b"".join(lines)), stdout=out)
    return out.getvalue().splitlines(keepends=True), err.getvalue()


class ServeTest(unittest.TestCase):
    def test_cases(self):
        def echo(request, meta):
            return rch.reply(True, "echo", request)

        def boom(request, meta):
            raise RuntimeError("boom")

        cases = [
            # name, fn, request, want response, want in stderr
            ("success", echo, {"n": 1}, rch.reply(True, "echo", {"n": 1}), ""),
            ("exception", boom, {}, {"success": False, "message": "An unexpected error occurred", "data": None}, "RuntimeError: boom"),
            ("returns None", lambda r, m: None, {}, {"success": False, "message": "An unexpected error occurred", "data": None}, "not a response dict"),
            ("not JSON", lambda r, m: rch.reply(True, "", {"x": object()}), {}, {"success": False, "message": "An unexpected error occurred", "data": None}, "TypeError"),
            ("NaN", lambda r, m: rch.reply(True, "", float("nan")), {}, {"success": False, "message": "An unexpected error occurred", "data": None}, "ValueError"),
            ("non-ASCII", echo, {"s": "é\u2028x"}, rch.reply(True, "echo", {"s": "é\u2028x"}), ""),
        ]
        for name, fn, request, want, stderr in cases:
            with self.subTest(name):
                lines, err = run(fn, request_line("c1", request))
                self.assertEqual(lines[0], HANDSHAKE)
                self.assertEqual(len(lines), 2, lines)
                self.assertTrue(lines[1].endswith(b"\n"))
                self.assertNotIn(b"\n", lines[1][:-1])
                self.assertEqual(json.loads(lines[1].decode("utf-8")), {"correlation_id": "c1", "response": want})
                self.assertIn(stderr, err)

    def test_keeps_serving_after_an_exception(self):
        def fn(request, meta):
            if request["fail"]:
                raise ValueError("no")
            return rch.reply(True, "ok")

        lines, _ = run(fn, request_line("a", {"fail": True}), request_line("b", {"fail": False}))
        got = [json.loads(l) for l in lines[1:]]
        self.assertEqual([g["correlation_id"] for g in got], ["a", "b"])
        self.assertEqual([g["response"]["success"] for g in got], [False, True])

    def test_meta(self):
        seen = []
        run(lambda r, m: seen.append(m) or rch.reply(True, ""), request_line("c9", {}, redelivered=True, deadline=1767225600000))
        self.assertEqual(seen, [rch.Meta("c9", "dx_x", "v", True, 1767225600000)])
        self.assertLess(seen[0].seconds_left(), 0)
        soon = rch.Meta("c", "e", "v", False, int((time.time() + 10) * 1000))
        self.assertTrue(8 < soon.seconds_left() <= 10)
        self.assertIsNone(rch.Meta("c", "e", "v", False, None).seconds_left())

    def test_progress(self):
        def fn(request, meta):
            rch.progress("Building", "step 1", 40, {"k": 1})
            rch.progress("Done")
            return rch.reply(True, "ok")

        lines, _ = run(fn, request_line("p1", {}))
        got = [json.loads(l) for l in lines[1:]]
        self.assertEqual(got, [
            {"correlation_id": "p1", "progress": {"state": "Building", "message": "step 1", "percent": 40.0, "data": {"k": 1}}},
            {"correlation_id": "p1", "progress": {"state": "Done", "message": ""}},
            {"correlation_id": "p1", "response": rch.reply(True, "ok")},
        ])
        out = io.BytesIO()
        rch.progress("Outside", "a request")  # between requests: nothing written
        self.assertEqual(out.getvalue(), b"")
        self.assertIsNone(rch._current)

    def test_retry_later(self):
        def fn(request, meta):
            raise rch.RetryLater(2.5)

        lines, _ = run(fn, request_line("r1", {}))
        self.assertEqual(json.loads(lines[1]), {"correlation_id": "r1", "retry_after_seconds": 2.5})

    def test_no_request(self):
        lines, _ = run(lambda r, m: rch.reply(True, ""))
        self.assertEqual(lines, [HANDSHAKE])

    def test_protocol_errors(self):
        for line in [b"nonsense\n", b"[1]\n", b'{"request": {}}\n']:
            with self.subTest(line):
                with self.assertRaises(rch.ProtocolError):
                    run(lambda r, m: rch.reply(True, ""), line)


PROGRAM = textwrap.dedent(
    """
    import os, sys
    sys.path.insert(0, %r)
    print("printed at import")  # before serve: reaches stdout only when unbuffered (python3 -u)
    from rabbitmq_consumer_handler import handler, reply

    @handler
    def handle(request, meta):
        print("printed by fn", request)
        os.system("echo written by a child")
        return reply(True, str(os.getpid()), request)
    """
) % HERE


class OneShotProgressTest(unittest.TestCase):
    """progress() in a one-shot handler: lines on the RPC_PROGRESS_FD pipe."""

    def setUp(self):
        self.r, self.w = os.pipe()
        self.addCleanup(os.close, self.r)
        saved = os.environ.get(PROGRESS_FD)
        os.environ[PROGRESS_FD] = str(self.w)

        def restore():
            if saved is None:
                os.environ.pop(PROGRESS_FD, None)
            else:
                os.environ[PROGRESS_FD] = saved

        self.addCleanup(restore)

    def lines(self):
        os.close(self.w)
        with open(self.r, "rb", closefd=False) as f:
            return [json.loads(l) for l in f.read().splitlines()]

    def test_writes_one_line_per_update(self):
        rch.progress("Building", "step 1", 40, {"k": 1})
        rch.progress("Done")
        self.assertEqual(self.lines(), [
            {"state": "Building", "message": "step 1", "percent": 40.0, "data": {"k": 1}},
            {"state": "Done", "message": ""},
        ])

    def test_not_while_serving(self):
        def fn(request, meta):
            rch.progress("Inside", "a request")
            return rch.reply(True, "ok")

        lines, _ = run(fn, request_line("p1", {}))
        self.assertEqual(json.loads(lines[1])["progress"]["state"], "Inside")
        self.assertEqual(self.lines(), [])

    def test_unusable_pipe_is_ignored(self):
        os.close(self.w)
        rch.progress("Closed", "descriptor")  # EBADF: dropped
        self.w = os.open(os.devnull, os.O_WRONLY)
        os.environ[PROGRESS_FD] = "not a number"
        rch.progress("Bad", "variable")
        os.environ.pop(PROGRESS_FD)
        rch.progress("No", "pipe")
        self.assertEqual(self.lines(), [])

    def test_one_shot_program(self):
        program = textwrap.dedent("""
            import json, sys
            sys.path.insert(0, %r)
            from rabbitmq_consumer_handler import progress
            request = json.load(sys.stdin)
            for i in range(1, 4):
                progress("Building", "step %%d" %% i, i * 25)
            json.dump({"success": True, "message": "Built", "data": request}, sys.stdout)
        """) % HERE
        p = subprocess.run(
            [sys.executable, "-c", program],
            input=b'{"n": 1}',
            capture_output=True,
            timeout=30,
            pass_fds=(self.w,),
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(json.loads(p.stdout), {"success": True, "message": "Built", "data": {"n": 1}})
        self.assertEqual([(l["message"], l["percent"]) for l in self.lines()], [("step 1", 25.0), ("step 2", 50.0), ("step 3", 75.0)])


class ProcessTest(unittest.TestCase):
    """The helper in a program of its own, as the consumer runs it."""

    def test_stdout_carries_only_the_protocol(self):
        # Buffered, as the consumer runs it (a clean environment): even what
        # was printed before serve() goes to stderr.
        env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
        p = subprocess.run(
            [sys.executable, "-c", PROGRAM],
            input=request_line("a", {"n": 1}) + request_line("b", {"n": 2}),
            capture_output=True,
            timeout=30,
            env=env,
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines(keepends=True)
        self.assertEqual(lines[0], HANDSHAKE)
        got = [json.loads(l) for l in lines[1:]]
        self.assertEqual([(g["correlation_id"], g["response"]["data"]) for g in got], [("a", {"n": 1}), ("b", {"n": 2})])
        self.assertEqual(got[0]["response"]["message"], got[1]["response"]["message"])  # one process
        for text in [b"printed at import", b"printed by fn {'n': 1}", b"written by a child"]:
            self.assertIn(text, p.stderr)

    def test_unbuffered_prints_in_fn_go_to_stderr(self):
        program = PROGRAM.replace('print("printed at import")', "")
        p = subprocess.run(
            [sys.executable, "-u", "-c", program],
            input=request_line("a", {"n": 1}),
            capture_output=True,
            timeout=30,
        )
        self.assertEqual(p.returncode, 0, p.stderr)
        lines = p.stdout.splitlines(keepends=True)
        self.assertEqual(lines[0], HANDSHAKE)
        self.assertEqual([json.loads(l)["correlation_id"] for l in lines[1:]], ["a"])
        self.assertIn(b"printed by fn", p.stderr)

    def test_imported_handler_is_the_function(self):
        def f(request, meta):
            return rch.reply(True, "x")

        self.assertIs(rch.handler(f), f)


if __name__ == "__main__":
    unittest.main()
