/**
 * Without a daemon: faults a daemon cannot be made to show on demand (gone, cut mid-stream, silent), played by
 * small local servers, plus configuration and the checks made before sending.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inspect } from "node:util";
import { describe, it } from "node:test";

import {
  Bhatti, BhattiError, ConnectionFailed, Forbidden, InvalidRequest, NotFound, RateLimited, Sandbox, ServerError, TimeoutError,
  type ExecEvent,
} from "../src/index.js";

/** An HTTP server on a free loopback port for the length of `body`. */
async function withServer(handler: (req: IncomingMessage, res: ServerResponse) => void, body: (url: string, server: Server) => Promise<void>) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, server);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A TCP server that answers every connection with `answer` (raw bytes), for HTTP a node server would not send. */
async function withRawServer(answer: (socket: Socket) => void, body: (url: string) => Promise<void>) {
  const sockets = new Set<Socket>();
  const server: TcpServer = createTcpServer((socket) => {
    sockets.add(socket);
    socket.once("data", () => answer(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  try {
    await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** A sandbox object pointing at `url` (no daemon behind it). */
function sandboxAt(url: string, timeoutMs = 10_000): Sandbox {
  return new Sandbox(new Bhatti({ url, token: "k", timeoutMs }), { id: "sb-1", name: "sb", status: "running" });
}

async function collect(stream: AsyncIterable<ExecEvent>, seen: ExecEvent[]): Promise<void> {
  for await (const ev of stream) seen.push(ev);
}

const NDJSON_HEAD = "HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nConnection: close\r\n\r\n";

describe("faults", () => {
  it("an unreachable daemon is a ConnectionFailed", async () => {
    const free = createTcpServer();
    await new Promise<void>((resolve) => free.listen(0, "127.0.0.1", resolve));
    const port = (free.address() as AddressInfo).port;
    await new Promise((resolve) => free.close(resolve)); // a port nobody listens on now
    await assert.rejects(new Bhatti({ url: `http://127.0.0.1:${port}`, token: "x" }).sandboxes.list(), (e: unknown) => {
      assert.ok(e instanceof ConnectionFailed, String(e));
      assert.match(e.message, /reaching the bhatti daemon at http:\/\/127\.0\.0\.1:\d+ failed: .*ECONNREFUSED/);
      assert.equal(e.status, 0);
      return true;
    });
  });

  it("a stream cut mid-way is a ConnectionFailed after the events that came, not a hang", async () => {
    await withServer((req, res) => {
      res.writeHead(200, { "Content-Type": "application/x-ndjson" });
      res.write('{"type":"stdout","data":"partial"}\n', () => setImmediate(() => res.socket?.destroy()));
    }, async (url) => {
      const seen: ExecEvent[] = [];
      await assert.rejects(collect(sandboxAt(url).execStream(["true"]), seen), (e: unknown) => {
        assert.ok(e instanceof ConnectionFailed, String(e));
        assert.match(e.message, /reading the stream from the bhatti daemon at .* failed/);
        return true;
      });
      assert.deepEqual(seen, [{ type: "stdout", data: "partial" }]);
    });
  });

  it("a stream that ends cleanly without its exit event is a ConnectionFailed", async () => {
    await withRawServer((socket) => socket.end(NDJSON_HEAD + '{"type":"stderr","data":"half"}\n{"type":"stdout","da'), async (url) => {
      const seen: ExecEvent[] = [];
      await assert.rejects(collect(sandboxAt(url).execStream("make"), seen), (e: unknown) => {
        assert.ok(e instanceof ConnectionFailed, String(e));
        assert.match(e.message, /ended mid-line/);
        return true;
      });
      assert.deepEqual(seen, [{ type: "stderr", data: "half" }]);
    });
    await withRawServer((socket) => socket.end(NDJSON_HEAD + '{"type":"stdout","data":"a"}\n'), async (url) => {
      await assert.rejects(collect(sandboxAt(url).execStream(["true"]), []), (e: unknown) => {
        assert.ok(e instanceof ConnectionFailed, String(e));
        assert.match(e.message, /ended before the command did/);
        return true;
      });
    });
  });

  it("an error event in a stream (the command could not run) is a BhattiError with the daemon's message", async () => {
    await withRawServer((socket) => socket.end(NDJSON_HEAD + '{"type":"stdout","data":"a"}\n{"type":"error","data":"sandbox sb is gone"}\n'), async (url) => {
      const seen: ExecEvent[] = [];
      await assert.rejects(collect(sandboxAt(url).execStream(["true"]), seen), (e: unknown) => {
        assert.ok(e instanceof BhattiError && !(e instanceof ConnectionFailed), String(e));
        assert.match(e.message, /the command failed in sandbox sb: sandbox sb is gone/);
        return true;
      });
      assert.deepEqual(seen, [{ type: "stdout", data: "a" }]);
    });
  });

  it("a stream that goes silent ends at its timeoutMs", async () => {
    await withServer((req, res) => {
      res.writeHead(200, { "Content-Type": "application/x-ndjson" });
      res.write('{"type":"stdout","data":"then nothing"}\n');
    }, async (url) => {
      const seen: ExecEvent[] = [];
      const started = Date.now();
      await assert.rejects(collect(sandboxAt(url).execStream(["true"], { timeoutMs: 300 }), seen), TimeoutError);
      assert.deepEqual(seen, [{ type: "stdout", data: "then nothing" }]);
      assert.ok(Date.now() - started < 5_000, "the deadline ends it, not the test's timeout");
    });
  });

  it("an AbortSignal cancels a call that gets no answer; a client timeout is a TimeoutError", async () => {
    let requests = 0;
    await withServer(() => requests++, async (url) => {
      const controller = new AbortController();
      const call = new Bhatti({ url, token: "k" }).sandboxes.list({ signal: controller.signal });
      setTimeout(() => controller.abort(), 100);
      await assert.rejects(call, (e: unknown) => (e as Error).name === "AbortError");
      const reason = new Error("the user went away");
      await assert.rejects(new Bhatti({ url, token: "k" }).sandboxes.list({ signal: AbortSignal.abort(reason) }), (e) => e === reason);
      await assert.rejects(new Bhatti({ url, token: "k", timeoutMs: 200 }).sandboxes.get("x"), (e: unknown) => {
        assert.ok(e instanceof TimeoutError, String(e));
        assert.match(e.message, /within 200 ms/);
        return true;
      });
      assert.equal(requests, 2, "the call aborted before sending was never sent");
    });
  });

  it("leaving a stream early closes its connection", async () => {
    let closed!: () => void;
    const connectionClosed = new Promise<void>((resolve) => (closed = resolve));
    await withServer((req, res) => {
      res.writeHead(200, { "Content-Type": "application/x-ndjson" });
      const tick = setInterval(() => res.write('{"type":"stdout","data":"tick\\n"}\n'), 20);
      res.on("close", () => {
        clearInterval(tick);
        closed();
      });
    }, async (url) => {
      let n = 0;
      for await (const ev of sandboxAt(url).execStream(["yes"])) {
        assert.equal(ev.data, "tick\n");
        if (++n === 3) break;
      }
      await connectionClosed;
    });
  });

  it("each status is its error class, with the daemon's message and Retry-After", async () => {
    const answers: Record<string, [number, Record<string, string>, string]> = {
      "/sandboxes/limited": [429, { "Retry-After": "7" }, '{"error":"too many requests"}'],
      "/sandboxes/quota": [429, {}, '{"error":"sandbox limit reached"}'],
      "/sandboxes/forbidden": [403, {}, '{"error":"admin only"}'],
      "/sandboxes/broken": [500, {}, '{"error":"internal error"}'],
      "/sandboxes/proxy": [404, { "Content-Type": "text/html" }, "<h1>no such page</h1>"],
    };
    await withServer((req, res) => {
      const [status, headers, body] = answers[req.url!]!;
      res.writeHead(status, headers).end(body);
    }, async (url) => {
      const sandboxes = new Bhatti({ url, token: "k" }).sandboxes;
      await assert.rejects(sandboxes.get("limited"), (e: unknown) => e instanceof RateLimited && e.retryAfter === 7 && e.message === "too many requests");
      await assert.rejects(sandboxes.get("quota"), (e: unknown) => e instanceof RateLimited && e.retryAfter === undefined && e.status === 429);
      await assert.rejects(sandboxes.get("forbidden"), (e: unknown) => e instanceof Forbidden && e.message === "admin only");
      await assert.rejects(sandboxes.get("broken"), (e: unknown) => e instanceof ServerError && e.status === 500);
      await assert.rejects(sandboxes.get("proxy"), (e: unknown) => e instanceof NotFound && e.message === "<h1>no such page</h1>");
    });
  });
});

describe("before sending", () => {
  it("configuration: options, then BHATTI_URL/BHATTI_TOKEN, then the CLI's config file", () => {
    const dir = mkdtempSync(join(tmpdir(), "bhatti-ts-"));
    const saved = { ...process.env };
    try {
      writeFileSync(join(dir, "config.yaml"), "# the CLI's\napi_url: http://10.1.2.3:8080/\nauth_token: 'k123'  # admin\n  nested: no\n");
      delete process.env["BHATTI_URL"];
      delete process.env["BHATTI_TOKEN"];
      process.env["BHATTI_CONFIG"] = join(dir, "config.yaml");
      const fromFile = new Bhatti();
      assert.deepEqual([fromFile.url, fromFile.token], ["http://10.1.2.3:8080", "k123"]);
      process.env["BHATTI_URL"] = "http://127.0.0.1:9999";
      process.env["BHATTI_TOKEN"] = "from-env";
      assert.deepEqual([new Bhatti().url, new Bhatti().token], ["http://127.0.0.1:9999", "from-env"]);
      const explicit = new Bhatti({ url: "https://bhatti.example/", token: "given" });
      assert.deepEqual([explicit.url, explicit.token], ["https://bhatti.example", "given"]);
      process.env["BHATTI_CONFIG"] = join(dir, "missing.yaml");
      delete process.env["BHATTI_URL"];
      delete process.env["BHATTI_TOKEN"];
      assert.deepEqual([new Bhatti().url, new Bhatti().token], ["http://127.0.0.1:8080", undefined]);
      process.env["BHATTI_URL"] = "localhost:8080";
      assert.throws(() => new Bhatti(), (e: unknown) => e instanceof InvalidRequest && /BHATTI_URL must be http or https/.test(e.message));
      assert.ok(!inspect(explicit, { depth: 9 }).includes("given"), "the key is not in what a log would print");
    } finally {
      process.env = saved;
      rmSync(dir, { recursive: true });
    }
  });

  it("bad arguments are refused before anything is sent", async () => {
    let requests = 0;
    await withServer((req, res) => {
      requests++;
      res.end("{}");
    }, async (url) => {
      const sb = sandboxAt(url);
      assert.throws(() => sb.execStream([]), InvalidRequest);
      await assert.rejects(sb.exec([]), InvalidRequest);
      await assert.rejects(sb.exec("  "), InvalidRequest);
      await assert.rejects(sb.exec(["sleep", "1"], { timeoutSec: 1.5 }), InvalidRequest);
      await assert.rejects(sb.files.read("relative/path"), /guest paths are absolute/);
      await assert.rejects(sb.files.write("/a", "x", { mode: 0o4755 }), InvalidRequest);
      await assert.rejects(sb.publish(70000), InvalidRequest);
      await assert.rejects(new Bhatti({ url, token: "k" }).sandboxes.get(""), InvalidRequest);
      assert.equal(requests, 0);
    });
  });
});
