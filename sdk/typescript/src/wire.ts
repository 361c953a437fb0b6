import { BhattiError, InvalidRequest } from "./errors.js";
import type { Scope } from "./http.js";
import type { CreateOptions, ExecOptions, ExecResult, FileEntry, Published, SandboxInfo, SecretInfo, SnapshotInfo } from "./types.js";

/** Between the camelCase objects of this client and the daemon's snake_case JSON, and what is checked before sending. */

type Wire = Record<string, unknown>;

const camel = (key: string) => key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

/** Top-level keys to camelCase; values as they are (never used on maps whose keys are the user's). */
function camelKeys(o: unknown): Wire {
  const out: Wire = {};
  for (const [k, v] of Object.entries((o ?? {}) as Wire)) out[camel(k)] = v;
  return out;
}

export function sandboxInfo(o: unknown): SandboxInfo {
  const info = camelKeys(o);
  if (Array.isArray(info["volumes"])) info["volumes"] = info["volumes"].map(camelKeys);
  if (typeof info["id"] !== "string") throw new BhattiError(`the daemon answered with a sandbox without an id: ${JSON.stringify(o)}`);
  return info as unknown as SandboxInfo;
}

export const snapshotInfo = (o: unknown) => camelKeys(o) as unknown as SnapshotInfo;
export const secretInfo = (o: unknown) => camelKeys(o) as unknown as SecretInfo;
export const published = (o: unknown) => camelKeys(o) as unknown as Published;

export function fileEntry(o: unknown): FileEntry {
  const e = camelKeys(o);
  return { name: String(e["name"] ?? ""), size: Number(e["size"] ?? 0), mode: String(e["mode"] ?? ""), isDir: Boolean(e["isDir"]),
    type: String(e["type"] ?? ""), ...(e["mtime"] !== undefined ? { mtime: String(e["mtime"]) } : {}) };
}

export function execResult(o: unknown): ExecResult {
  const r = (o ?? {}) as Wire;
  const exitCode = typeof r["exit_code"] === "number" ? r["exit_code"] : -1;
  const timedOut = Boolean(r["timed_out"]);
  return { exitCode, stdout: String(r["stdout"] ?? ""), stderr: String(r["stderr"] ?? ""), timedOut,
    truncated: Boolean(r["truncated"]), ok: exitCode === 0 && !timedOut };
}

export function createBody(o: CreateOptions): Wire {
  const body: Wire = {
    name: o.name, image: o.image, cpus: o.cpus, memory_mb: o.memoryMb, env: o.env, init: o.init, secrets: o.secrets,
    keep_hot: o.keepHot, disk_size_mb: o.diskSizeMb, egress: o.egress, allow_hosts: o.allowHosts, run_entrypoint: o.runEntrypoint,
    volumes: o.volumes?.map((v) => ({ name: v.name, mount: v.mount, read_only: v.readOnly })),
  };
  for (const k of Object.keys(body)) if (body[k] === undefined) delete body[k];
  return body;
}

/** A command is an argv array, or one string that `sh -c` runs. */
export function execBody(cmd: string | readonly string[], o: ExecOptions): Wire {
  const argv = typeof cmd === "string" ? ["sh", "-c", cmd] : cmd;
  if (!Array.isArray(argv) || argv.length === 0 || !argv.every((a) => typeof a === "string")) {
    throw new InvalidRequest("exec needs a command: a non-empty array of strings, or one string for sh -c");
  }
  if (typeof cmd === "string" && !cmd.trim()) throw new InvalidRequest("exec needs a command: the string is empty");
  if (o.timeoutSec !== undefined && !(Number.isInteger(o.timeoutSec) && o.timeoutSec > 0)) {
    throw new InvalidRequest(`timeoutSec is a whole number of seconds above 0, not ${o.timeoutSec}`);
  }
  const body: Wire = { cmd: [...argv] };
  if (o.env) body["env"] = o.env;
  if (o.cwd) body["cwd"] = o.cwd;
  if (o.user) body["user"] = o.user;
  if (o.stdin !== undefined) body["stdin"] = o.stdin;
  if (o.timeoutSec !== undefined) body["timeout_sec"] = o.timeoutSec;
  return body;
}

export function checkName(what: string, name: unknown): string {
  if (typeof name !== "string" || !name) throw new InvalidRequest(`${what} must be a non-empty string, not ${JSON.stringify(name)}`);
  return name;
}

export function checkPort(port: unknown): number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new InvalidRequest(`a port is a whole number from 1 to 65535, not ${JSON.stringify(port)}`);
  }
  return port;
}

export function guestPath(path: unknown): string {
  if (typeof path !== "string" || !path.startsWith("/")) throw new InvalidRequest(`guest paths are absolute: ${JSON.stringify(path)}`);
  return path;
}

export function fileMode(mode: number): string {
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o777) {
    throw new InvalidRequest(`a file mode is permission bits from 0 to 0o777, not ${mode}`);
  }
  return mode.toString(8).padStart(4, "0");
}

/** The lines of an NDJSON body as parsed values, as they arrive; the body is cancelled when the reader stops early. */
export async function* ndjson(body: ReadableStream<Uint8Array>, scope: Scope): AsyncGenerator<unknown, void, undefined> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffered = "";
  let done = false;
  try {
    for (;;) {
      let chunk: Awaited<ReturnType<typeof reader.read>>;
      try {
        chunk = await reader.read();
      } catch (e) {
        throw scope.failure(e, "reading the stream from");
      }
      if (chunk.done) break;
      buffered += decoder.decode(chunk.value, { stream: true });
      for (let nl = buffered.indexOf("\n"); nl >= 0; nl = buffered.indexOf("\n")) {
        const line = buffered.slice(0, nl).trim();
        buffered = buffered.slice(nl + 1);
        if (line) yield parseLine(line);
      }
    }
    done = true;
    if ((buffered + decoder.decode()).trim()) throw scope.failure(new Error("the stream ended mid-line"), "reading the stream from");
  } finally {
    if (!done) reader.cancel().catch(() => undefined); // closes the connection: nobody reads the rest
  }
}

function parseLine(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    throw new BhattiError(`the daemon sent a stream line that is not JSON: ${line.slice(0, 200)}`);
  }
}
