"""Exec round trips through the Python SDK and through bare urllib, interleaved, in one process (bench/run's
sdk section runs it). Usage: python3 python_exec.py SANDBOX N WARM; BHATTI_URL/BHATTI_TOKEN name the daemon.
Prints one JSON object: {"sdk": [ns...], "raw": [ns...], "async": [ns...]}."""

import asyncio
import json
import os
import sys
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "sdk", "python"))
from bhatti import Bhatti  # noqa: E402
from bhatti.aio import AsyncBhatti  # noqa: E402

sandbox, n, warm = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
url, token = os.environ["BHATTI_URL"].rstrip("/"), os.environ["BHATTI_TOKEN"]
sb = Bhatti().sandboxes.get(sandbox)
body = json.dumps({"cmd": ["true"]}).encode()


def raw():
    req = urllib.request.Request(f"{url}/sandboxes/{sb.id}/exec", data=body, method="POST",
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        if json.loads(r.read())["exit_code"] != 0:
            raise SystemExit("true failed")


def timed(f):
    t = time.perf_counter_ns()
    f()
    return time.perf_counter_ns() - t


async def run_async(count):
    asb = await AsyncBhatti().sandboxes.get(sandbox)
    out = []
    for _ in range(count):
        t = time.perf_counter_ns()
        if (await asb.exec("true")).exit_code != 0:
            raise SystemExit("true failed")
        out.append(time.perf_counter_ns() - t)
    return out


def sdk():
    if sb.exec("true").exit_code != 0:
        raise SystemExit("true failed")


for _ in range(warm):
    sdk()
    raw()
sdk_ns, raw_ns = [], []
for _ in range(n):
    sdk_ns.append(timed(sdk))
    raw_ns.append(timed(raw))
async_ns = asyncio.run(run_async(n))
print(json.dumps({"sdk": sdk_ns, "raw": raw_ns, "async": async_ns}))
