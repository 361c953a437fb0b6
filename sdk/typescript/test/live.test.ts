/**
 * Against a real daemon with real VMs: BHATTI_URL and BHATTI_TOKEN name it (the tests skip without them);
 * BHATTI_LIMITED_TOKEN, a key whose user may have no sandbox, makes a 429.
 *
 *     BHATTI_URL=http://127.0.0.1:8080 BHATTI_TOKEN=... npm test
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { after, before, describe, it } from "node:test";

import {
  AuthenticationError, Bhatti, BhattiError, Conflict, InvalidRequest, NotFound, RateLimited, TimeoutError, type ExecEvent, type Sandbox,
} from "../src/index.js";

const LIVE = Boolean(process.env["BHATTI_URL"] && process.env["BHATTI_TOKEN"]);

describe("against a daemon", { skip: LIVE ? false : "set BHATTI_URL and BHATTI_TOKEN to run against a daemon" }, () => {
  let bhatti: Bhatti;
  let sb: Sandbox;
  const name = "ts-" + randomBytes(4).toString("hex");

  before(async () => {
    bhatti = new Bhatti();
    sb = await bhatti.sandboxes.create({ name, cpus: 1, memoryMb: 512 });
  });

  after(async () => {
    if (!bhatti) return;
    for (const s of await bhatti.sandboxes.list()) if (s.name.startsWith(name)) await s.destroy();
  });

  it("creates a sandbox that list and get see; create is idempotent by name", async () => {
    assert.equal(sb.name, name);
    assert.equal(sb.status, "running");
    assert.equal(sb.info.memoryMb, 512);
    assert.ok((await bhatti.sandboxes.list()).some((s) => s.id === sb.id));
    assert.equal((await bhatti.sandboxes.get(name)).id, sb.id);
    assert.equal((await bhatti.sandboxes.create({ name, cpus: 1, memoryMb: 512 })).id, sb.id);
  });

  it("exec buffered and streamed", async () => {
    const r = await sb.exec(["sh", "-c", "echo out; echo err >&2; exit 3"]);
    assert.deepEqual([r.exitCode, r.stdout, r.stderr, r.ok], [3, "out\n", "err\n", false]);
    assert.equal((await sb.exec("echo $GREETING from $(pwd)", { env: { GREETING: "héllo" }, cwd: "/tmp" })).stdout, "héllo from /tmp\n");
    assert.equal((await sb.exec(["cat"], { stdin: "from stdin" })).stdout, "from stdin");

    const events: ExecEvent[] = [];
    for await (const ev of sb.execStream(["sh", "-c", "for i in 1 2 3; do echo $i; done; echo e >&2"])) events.push(ev);
    assert.equal(events.filter((e) => e.type === "stdout").map((e) => e.data).join(""), "1\n2\n3\n");
    assert.equal(events.filter((e) => e.type === "stderr").map((e) => e.data).join(""), "e\n");
    assert.deepEqual(events.at(-1), { type: "exit", exitCode: 0, timedOut: false });

    // much output in many chunks: lines split across chunks come back whole
    let out = "";
    let exit: ExecEvent | undefined;
    for await (const ev of sb.execStream("seq 1 20000")) {
      if (ev.type === "exit") exit = ev;
      else out += ev.data;
    }
    assert.equal(out, Array.from({ length: 20000 }, (_, i) => `${i + 1}\n`).join(""));
    assert.equal(exit?.exitCode, 0);

    const timedOut = await sb.exec(["sleep", "5"], { timeoutSec: 1 });
    assert.equal(timedOut.timedOut, true);
    assert.equal(timedOut.ok, false);
  });

  it("files round trip, text and binary", async () => {
    const blob = new Uint8Array(64 * 256).map((_, i) => i % 256);
    await sb.files.write("/workspace/blob.bin", blob, { mode: 0o600 });
    assert.deepEqual(await sb.files.read("/workspace/blob.bin"), blob);
    await sb.files.write("/workspace/a.txt", "hi ✓");
    assert.equal(await sb.files.readText("/workspace/a.txt"), "hi ✓");
    assert.equal((await sb.exec(["cat", "/workspace/a.txt"])).stdout, "hi ✓");
    const entries = new Map((await sb.files.list("/workspace")).map((e) => [e.name, e]));
    assert.equal(entries.get("blob.bin")?.size, blob.length);
    assert.equal(entries.get("blob.bin")?.mode, "0600");
    assert.equal(entries.get("blob.bin")?.isDir, false);
    await assert.rejects(sb.files.read("/workspace/no-such-file"), NotFound);
  });

  it("snapshot and resume; stop and start keep the machine", async () => {
    await sb.exec("echo kept >/workspace/state");
    const snap = await sb.snapshot(name + "-snap");
    assert.equal(snap.name, name + "-snap");
    const copy = await bhatti.snapshots.resume(name + "-snap", { name: name + "-copy" });
    assert.equal(copy.name, name + "-copy");
    assert.equal((await copy.exec(["cat", "/workspace/state"])).stdout, "kept\n");
    await copy.exec("sleep 1000 >/dev/null 2>&1 & echo $! >/tmp/pid");
    await copy.stop();
    assert.equal(copy.status, "stopped");
    await copy.start();
    assert.equal(copy.status, "running");
    assert.equal((await copy.exec("kill -0 $(cat /tmp/pid) && cat /workspace/state")).stdout, "kept\n", "processes live on");
    await copy.destroy();
    await assert.rejects(bhatti.sandboxes.get(name + "-copy"), NotFound);
    assert.ok((await bhatti.snapshots.list()).some((s) => s.name === name + "-snap"));
    await bhatti.snapshots.delete(name + "-snap");
    await assert.rejects(bhatti.snapshots.get(name + "-snap"), NotFound);
  });

  it("secrets: set, list, delete (values never come back)", async () => {
    const secret = name.toUpperCase().replace(/-/g, "_");
    const set = await bhatti.secrets.set(secret, "s3cret");
    assert.equal(set.name, secret);
    await bhatti.secrets.set(secret, "replaced");
    const listed = (await bhatti.secrets.list()).filter((s) => s.name === secret);
    assert.equal(listed.length, 1);
    assert.ok(!JSON.stringify(listed).includes("s3cret") && !JSON.stringify(listed).includes("replaced"));
    await bhatti.secrets.delete(secret);
    await assert.rejects(bhatti.secrets.get(secret), NotFound);
    await assert.rejects(bhatti.secrets.delete(secret), NotFound);
  });

  it("publish and unpublish a port", async () => {
    const p = await sb.publish(8080, { alias: name });
    assert.deepEqual([p.port, p.alias, p.sandboxId], [8080, name, sb.id]);
    assert.ok(p.url === null ? Boolean(p.urlUnavailable) : p.url.includes(name));
    assert.deepEqual((await sb.published()).map((x) => x.port), [8080]);
    await sb.unpublish(8080);
    assert.deepEqual(await sb.published(), []);
    await assert.rejects(sb.publish(8080, { alias: "Not_An_Alias" }), InvalidRequest);
  });

  it("errors are typed: 404, 409, 401, 400, 429", async (t) => {
    await assert.rejects(bhatti.sandboxes.get("no-such-sandbox-" + randomBytes(3).toString("hex")), (e: unknown) => {
      assert.ok(e instanceof NotFound, String(e));
      assert.equal(e.status, 404);
      return true;
    });
    await sb.snapshot(name + "-taken");
    try {
      await assert.rejects(sb.snapshot(name + "-taken"), (e: unknown) => e instanceof Conflict && e.status === 409);
    } finally {
      await bhatti.snapshots.delete(name + "-taken");
    }
    await assert.rejects(new Bhatti({ token: "not-a-key" }).sandboxes.list(), (e: unknown) => e instanceof AuthenticationError && e.status === 401);
    await assert.rejects(bhatti.sandboxes.create({ name: name + "-big", memoryMb: -5 }), (e: unknown) => e instanceof InvalidRequest && e.status === 400);
    const limited = process.env["BHATTI_LIMITED_TOKEN"];
    if (!limited) {
      t.skip("set BHATTI_LIMITED_TOKEN (a user with --max-sandboxes 0) for the 429");
      return;
    }
    await assert.rejects(new Bhatti({ token: limited }).sandboxes.create({ name: name + "-over" }), (e: unknown) => {
      assert.ok(e instanceof RateLimited, String(e));
      assert.equal(e.status, 429);
      return true;
    });
  });

  it("a signal or a deadline ends a call; the sandbox carries on", async () => {
    const started = Date.now();
    await assert.rejects(sb.exec(["sleep", "30"], { signal: AbortSignal.timeout(300) }), (e: unknown) => (e as Error).name === "TimeoutError");
    await assert.rejects(sb.exec(["sleep", "30"], { timeoutMs: 300 }), TimeoutError);
    let seen = 0;
    await assert.rejects(async () => {
      for await (const ev of sb.execStream("echo started; sleep 30", { timeoutMs: 2_000 })) seen += ev.type === "stdout" ? 1 : 0;
    }, TimeoutError);
    assert.equal(seen, 1);
    assert.ok(Date.now() - started < 20_000, `three calls cut within their deadlines took ${Date.now() - started} ms`);
    assert.equal((await sb.exec(["echo", "still here"])).stdout, "still here\n");
    await assert.rejects(async () => {
      for await (const ev of sb.execStream(["sh", "-c", "echo x; exit 0"])) {
        if (ev.type === "stdout") throw new BhattiError("the caller's own error ends the loop");
      }
    }, /the caller's own error/);
  });

  it("exec round trip through the SDK and through raw fetch (printed, never asserted)", async (t) => {
    const raw = async () => {
      const res = await fetch(`${bhatti.url}/sandboxes/${sb.id}/exec`, {
        method: "POST",
        headers: { Authorization: `Bearer ${bhatti.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ cmd: ["true"] }),
      });
      assert.equal(((await res.json()) as { exit_code: number }).exit_code, 0);
    };
    const viaSdk = async () => assert.equal((await sb.exec(["true"])).exitCode, 0);
    const sdkMs: number[] = [];
    const rawMs: number[] = [];
    for (let i = 0; i < 3; i++) {
      await viaSdk(); // warms both paths (connections, JIT)
      await raw();
    }
    for (let i = 0; i < 30; i++) {
      // alternating, so that both see the same daemon and VM state
      let t0 = performance.now();
      await viaSdk();
      sdkMs.push(performance.now() - t0);
      t0 = performance.now();
      await raw();
      rawMs.push(performance.now() - t0);
    }
    const line = `exec round trip (30 x true, node ${process.version}): SDK p50 ${pct(sdkMs, 50)} ms p95 ${pct(sdkMs, 95)} ms; ` +
      `raw fetch p50 ${pct(rawMs, 50)} ms p95 ${pct(rawMs, 95)} ms`;
    t.diagnostic(line);
    console.log(line);
  });
});

function pct(values: number[], p: number): string {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!.toFixed(1);
}
