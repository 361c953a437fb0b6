"""Against a real daemon with real VMs: BHATTI_URL and BHATTI_TOKEN name it (the tests skip without them).

    BHATTI_URL=http://127.0.0.1:8080 BHATTI_TOKEN=... python3 -m unittest discover -s tests -v
"""

import asyncio
import os
import threading
import time
import unittest
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import bhatti
from bhatti import Bhatti
from bhatti.aio import AsyncBhatti

LIVE = bool(os.environ.get("BHATTI_URL") and os.environ.get("BHATTI_TOKEN"))


@unittest.skipUnless(LIVE, "set BHATTI_URL and BHATTI_TOKEN to run against a daemon")
class LiveTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.client = Bhatti()
        cls.name = "py-" + uuid.uuid4().hex[:8]
        cls.sb = cls.client.sandboxes.create(name=cls.name, cpus=1, memory_mb=512)

    @classmethod
    def tearDownClass(cls):
        for s in cls.client.sandboxes.list():
            if s.name and s.name.startswith(cls.name):
                s.destroy()

    def test_exec_buffered_and_streamed(self):
        r = self.sb.exec("sh", "-c", "echo out; echo err >&2; exit 3")
        self.assertEqual((r.exit_code, r.stdout, r.stderr), (3, "out\n", "err\n"))
        self.assertFalse(r.ok)
        events = list(self.sb.exec_stream(["sh", "-c", "for i in 1 2 3; do echo $i; done"]))
        self.assertEqual("".join(e.get("data", "") for e in events if e["type"] == "stdout"), "1\n2\n3\n")
        self.assertEqual(events[-1], {"type": "exit", "exit_code": 0})
        self.assertEqual(self.sb.exec("cat", stdin="from stdin").stdout, "from stdin")

    def test_files_round_trip(self):
        data = bytes(range(256)) * 64
        self.sb.files.write("/workspace/blob.bin", data, mode=0o600)
        self.assertEqual(self.sb.files.read("/workspace/blob.bin"), data)
        self.sb.files.write("/workspace/a.txt", "hi")
        self.assertEqual(self.sb.exec("cat", "/workspace/a.txt").stdout, "hi")
        names = {e.name: e for e in self.sb.files.list("/workspace")}
        self.assertEqual(names["blob.bin"].size, len(data))
        with self.assertRaises(bhatti.NotFound):
            self.sb.files.read("/workspace/no-such-file")

    def test_snapshot_resume_and_stop_start(self):
        self.sb.exec("sh", "-c", "echo kept >/workspace/state")
        self.sb.snapshot(self.name + "-snap")
        copy = self.client.snapshots.resume(self.name + "-snap", name=self.name + "-copy")
        self.assertEqual(copy.exec("cat", "/workspace/state").stdout, "kept\n")
        copy.stop()
        copy.start()
        self.assertEqual(copy.exec("cat", "/workspace/state").stdout, "kept\n")
        copy.destroy()
        self.client.snapshots.delete(self.name + "-snap")

    def test_secrets_and_publish(self):
        name = "PY_" + uuid.uuid4().hex[:6].upper()
        self.assertEqual(self.client.secrets.set(name, "v1")["name"], name)
        self.client.secrets.set(name, "v2")
        listed = self.client.secrets.list()
        self.assertIn(name, [s["name"] for s in listed])
        self.assertNotIn("v2", repr(listed))
        self.client.secrets.delete(name)
        with self.assertRaises(bhatti.NotFound):
            self.client.secrets.get(name)
        p = self.sb.publish(8080)
        self.assertEqual(p["port"], 8080)
        self.assertIn(8080, [x["port"] for x in self.sb.published()])
        self.sb.unpublish(8080)
        self.assertEqual(self.sb.published(), [])
        with self.assertRaises(bhatti.InvalidRequest):
            self.sb.publish(70000)

    def test_typed_errors(self):
        with self.assertRaises(bhatti.NotFound):
            self.client.sandboxes.get("no-such-sandbox-" + uuid.uuid4().hex[:6])
        # create is idempotent by name (the same sandbox back); a snapshot name is not
        self.assertEqual(self.client.sandboxes.create(name=self.name, cpus=1, memory_mb=512).id, self.sb.id)
        self.sb.snapshot(self.name + "-taken")
        try:
            with self.assertRaises(bhatti.Conflict):
                self.sb.snapshot(self.name + "-taken")
        finally:
            self.client.snapshots.delete(self.name + "-taken")
        with self.assertRaises(bhatti.AuthenticationError):
            Bhatti(token="not-a-key").sandboxes.list()
        with self.assertRaises(bhatti.InvalidRequest):
            self.sb.exec()


@unittest.skipUnless(LIVE, "set BHATTI_URL and BHATTI_TOKEN to run against a daemon")
class AsyncLiveTest(unittest.IsolatedAsyncioTestCase):
    async def asyncSetUp(self):
        self.client = AsyncBhatti()
        self.sb = await self.client.sandboxes.create(name="pya-" + uuid.uuid4().hex[:8], cpus=1, memory_mb=512)

    async def asyncTearDown(self):
        await self.sb.destroy()

    async def test_calls_run_side_by_side_and_streams_iterate(self):
        results = await asyncio.gather(*(self.sb.exec("sh", "-c", f"echo {i}") for i in range(4)))
        self.assertEqual([r.stdout for r in results], [f"{i}\n" for i in range(4)])
        events = [ev async for ev in self.sb.exec_stream(["sh", "-c", "echo out; echo err >&2; exit 5"])]
        self.assertIn({"type": "stdout", "data": "out\n"}, events)
        self.assertEqual(events[-1]["exit_code"], 5)
        await self.sb.files.write("/workspace/async.bin", bytes(range(256)) * 64)
        self.assertEqual(await self.sb.files.read("/workspace/async.bin"), bytes(range(256)) * 64)
        self.assertIn("async.bin", [e.name for e in await self.sb.files.list("/workspace")])
        self.assertEqual((await self.client.sandboxes.get(self.sb.name)).id, self.sb.id)

    async def test_leaving_a_stream_early_closes_it(self):
        async for ev in self.sb.exec_stream(["sh", "-c", "echo first; sleep 600"]):
            self.assertEqual(ev, {"type": "stdout", "data": "first\n"})
            break
        deadline = time.monotonic() + 30
        while any(t.name == "bhatti-exec-stream" for t in threading.enumerate()):
            self.assertLess(time.monotonic(), deadline, "the stream's reader thread still runs after the loop left")
            await asyncio.sleep(0.05)
        # the sandbox answers the next call at once: nothing was left holding it
        self.assertEqual((await self.sb.exec("true")).exit_code, 0)


@unittest.skipUnless(LIVE and os.environ.get("BHATTI_LIMITED_TOKEN"), "set BHATTI_LIMITED_TOKEN: a user with no room for a sandbox")
class LimitTest(unittest.TestCase):
    def test_a_user_over_their_limit_gets_rate_limited(self):
        with self.assertRaises(bhatti.RateLimited) as e:
            Bhatti(token=os.environ["BHATTI_LIMITED_TOKEN"]).sandboxes.create(name="py-over-" + uuid.uuid4().hex[:6])
        self.assertEqual(e.exception.status, 429)
        self.assertIn("limit", str(e.exception))


class CutStream(BaseHTTPRequestHandler):
    """Answers an exec stream with one event, then closes the connection: a daemon gone mid-stream."""

    def do_POST(self):
        self.send_response(200)
        self.send_header("Content-Type", "application/x-ndjson")
        self.end_headers()
        self.wfile.write(b'{"type":"stdout","data":"partial"}\n')
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *a):
        pass


class OfflineTest(unittest.TestCase):
    def test_an_unreachable_daemon_is_a_connection_error(self):
        with self.assertRaises(bhatti.ConnectionFailed) as e:
            Bhatti(url="http://127.0.0.1:9", token="x").sandboxes.list()
        self.assertIn("cannot reach", str(e.exception))

    def test_a_stream_cut_short_is_an_error_not_a_hang(self):
        server = HTTPServer(("127.0.0.1", 0), CutStream)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            sb = bhatti.Sandbox(Bhatti(url=f"http://127.0.0.1:{server.server_port}", token="x", timeout=10), {"id": "x"})
            seen = []
            with self.assertRaises(bhatti.ConnectionFailed):
                for ev in sb.exec_stream(["true"]):
                    seen.append(ev)
            self.assertEqual(seen, [{"type": "stdout", "data": "partial"}])
        finally:
            server.shutdown()

    def test_an_async_stream_cut_short_is_an_error_too(self):
        server = HTTPServer(("127.0.0.1", 0), CutStream)
        threading.Thread(target=server.serve_forever, daemon=True).start()

        async def run():
            client = AsyncBhatti(url=f"http://127.0.0.1:{server.server_port}", token="x", timeout=10)
            from bhatti.aio import AsyncSandbox
            sb = AsyncSandbox(bhatti.Sandbox(client.sync, {"id": "x"}))
            seen = []
            with self.assertRaises(bhatti.ConnectionFailed):
                async for ev in sb.exec_stream(["true"]):
                    seen.append(ev)
            return seen

        try:
            self.assertEqual(asyncio.run(asyncio.wait_for(run(), 30)), [{"type": "stdout", "data": "partial"}])
        finally:
            server.shutdown()

    def test_config_comes_from_the_cli_file(self):
        import tempfile
        with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
            f.write("api_url: http://10.1.2.3:8080/\nauth_token: 'k123'  # admin\n")
        old = {k: os.environ.pop(k, None) for k in ("BHATTI_URL", "BHATTI_TOKEN", "BHATTI_CONFIG")}
        os.environ["BHATTI_CONFIG"] = f.name
        try:
            c = Bhatti()
            self.assertEqual((c.url, c.token), ("http://10.1.2.3:8080", "k123"))
        finally:
            os.environ.pop("BHATTI_CONFIG")
            for k, v in old.items():
                if v is not None:
                    os.environ[k] = v
            os.unlink(f.name)


if __name__ == "__main__":
    unittest.main()
