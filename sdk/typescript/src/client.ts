import { resolveConfig } from "./config.js";
import { BhattiError, ConnectionFailed } from "./errors.js";
import { Transport, type RequestOptions } from "./http.js";
import type {
  CreateOptions, ExecEvent, ExecOptions, ExecResult, FileEntry, Published, SandboxInfo, SecretInfo, SnapshotInfo, WriteOptions,
} from "./types.js";
import {
  checkName, checkPort, createBody, execBody, execResult, fileEntry, fileMode, guestPath, ndjson, published, sandboxInfo,
  secretInfo, snapshotInfo,
} from "./wire.js";

export interface BhattiOptions {
  /** the daemon's URL; default BHATTI_URL, then `api_url` of the CLI's config file, then http://127.0.0.1:8080 */
  url?: string;
  /** the API key; default BHATTI_TOKEN, then `auth_token` of the CLI's config file */
  token?: string;
  /**
   * Each call's deadline in milliseconds (default 300 000, also fetch's own limit for an answer to start). A
   * stream's default deadline covers only its start; a `timeoutMs` given to `execStream` covers the whole stream.
   */
  timeoutMs?: number;
  /** the fetch to use (default: the global one), e.g. one with a proxy or longer timeouts */
  fetch?: typeof fetch;
}

const seg = encodeURIComponent;
const NDJSON = "application/x-ndjson";

/**
 * A connection to a bhatti daemon:
 * ```ts
 * const bhatti = new Bhatti();
 * const sb = await bhatti.sandboxes.create({ name: "agent" });
 * console.log((await sb.exec(["uname", "-a"])).stdout);
 * ```
 */
export class Bhatti {
  readonly sandboxes: Sandboxes;
  readonly snapshots: Snapshots;
  readonly secrets: Secrets;
  /** @internal */
  readonly transport: Transport;
  readonly #token: string | undefined;

  constructor(options: BhattiOptions = {}) {
    const { url, token } = resolveConfig(options.url, options.token);
    const timeoutMs = options.timeoutMs ?? 300_000;
    if (!(timeoutMs > 0)) throw new BhattiError(`timeoutMs must be above 0, not ${timeoutMs}`);
    const fetchFn = options.fetch ?? globalThis.fetch;
    if (typeof fetchFn !== "function") throw new BhattiError("no fetch: bhatti needs Node 18 or later, or a fetch passed in the options");
    this.#token = token;
    this.transport = new Transport(url, token, timeoutMs, fetchFn);
    this.sandboxes = new Sandboxes(this);
    this.snapshots = new Snapshots(this);
    this.secrets = new Secrets(this);
  }

  /** The daemon's URL, without a trailing slash. */
  get url(): string {
    return this.transport.url;
  }

  /** The API key in use, if any. */
  get token(): string | undefined {
    return this.#token;
  }
}

export class Sandboxes {
  constructor(private readonly client: Bhatti) {}

  /** Creates a sandbox and resolves once its agent answers. Idempotent by name: an existing one comes back as it is. */
  async create(options: CreateOptions & RequestOptions = {}): Promise<Sandbox> {
    const data = await this.client.transport.json({ method: "POST", path: "/sandboxes", json: createBody(options), ...req(options) });
    return new Sandbox(this.client, sandboxInfo(data));
  }

  /** A sandbox by name or id. */
  async get(nameOrId: string, options: RequestOptions = {}): Promise<Sandbox> {
    const path = "/sandboxes/" + seg(checkName("a sandbox name or id", nameOrId));
    return new Sandbox(this.client, sandboxInfo(await this.client.transport.json({ method: "GET", path, ...req(options) })));
  }

  /** Your sandboxes (listing never wakes them). */
  async list(options: RequestOptions = {}): Promise<Sandbox[]> {
    const all = await this.client.transport.json<unknown[]>({ method: "GET", path: "/sandboxes", ...req(options) });
    return all.map((s) => new Sandbox(this.client, sandboxInfo(s)));
  }
}

export class Snapshots {
  constructor(private readonly client: Bhatti) {}

  async list(options: RequestOptions = {}): Promise<SnapshotInfo[]> {
    const all = await this.client.transport.json<unknown[]>({ method: "GET", path: "/snapshots", ...req(options) });
    return all.map(snapshotInfo);
  }

  async get(name: string, options: RequestOptions = {}): Promise<SnapshotInfo> {
    const path = "/snapshots/" + seg(checkName("a snapshot name", name));
    return snapshotInfo(await this.client.transport.json({ method: "GET", path, ...req(options) }));
  }

  /** A new sandbox from a snapshot, exactly as it was then (memory, processes, files). */
  async resume(snapshot: string, options: { name?: string } & RequestOptions = {}): Promise<Sandbox> {
    const path = "/snapshots/" + seg(checkName("a snapshot name", snapshot)) + "/resume";
    const json = options.name ? { name: options.name } : {};
    return new Sandbox(this.client, sandboxInfo(await this.client.transport.json({ method: "POST", path, json, ...req(options) })));
  }

  async delete(name: string, options: RequestOptions = {}): Promise<void> {
    const path = "/snapshots/" + seg(checkName("a snapshot name", name));
    await this.client.transport.json({ method: "DELETE", path, ...req(options) });
  }
}

/** Your secrets: values go in and are never given back; a sandbox created with `secrets: [name]` gets them as env. */
export class Secrets {
  constructor(private readonly client: Bhatti) {}

  /** Sets or replaces a secret. */
  async set(name: string, value: string, options: RequestOptions = {}): Promise<SecretInfo> {
    if (typeof value !== "string") throw new BhattiError("a secret's value is a string");
    const json = { name: checkName("a secret name", name), value };
    return secretInfo(await this.client.transport.json({ method: "POST", path: "/secrets", json, ...req(options) }));
  }

  async list(options: RequestOptions = {}): Promise<SecretInfo[]> {
    const all = await this.client.transport.json<unknown[]>({ method: "GET", path: "/secrets", ...req(options) });
    return all.map(secretInfo);
  }

  async get(name: string, options: RequestOptions = {}): Promise<SecretInfo> {
    const path = "/secrets/" + seg(checkName("a secret name", name));
    return secretInfo(await this.client.transport.json({ method: "GET", path, ...req(options) }));
  }

  async delete(name: string, options: RequestOptions = {}): Promise<void> {
    const path = "/secrets/" + seg(checkName("a secret name", name));
    await this.client.transport.json({ method: "DELETE", path, ...req(options) });
  }
}

/** One sandbox. `info` is the daemon's last answer about it; `refresh()` asks again. */
export class Sandbox {
  readonly files: Files;
  info: SandboxInfo;

  constructor(private readonly client: Bhatti, info: SandboxInfo) {
    this.info = info;
    this.files = new Files(client, this);
  }

  get id(): string {
    return this.info.id;
  }

  get name(): string {
    return this.info.name;
  }

  get status(): string {
    return this.info.status;
  }

  toJSON(): SandboxInfo {
    return this.info;
  }

  /** @internal */
  path(suffix = ""): string {
    return "/sandboxes/" + seg(this.info.id) + suffix;
  }

  async refresh(options: RequestOptions = {}): Promise<this> {
    this.info = sandboxInfo(await this.client.transport.json({ method: "GET", path: this.path(), ...req(options) }));
    return this;
  }

  /**
   * Runs a command to its end: `(await sb.exec(["uname", "-a"])).stdout`. A string is run by `sh -c`.
   * A non-zero exit is a result (`ok` false), not an error.
   */
  async exec(cmd: string | readonly string[], options: ExecOptions & RequestOptions = {}): Promise<ExecResult> {
    const json = execBody(cmd, options);
    return execResult(await this.client.transport.json({ method: "POST", path: this.path("/exec"), json, ...req(options) }));
  }

  /**
   * Runs a command and yields its output as it comes: `{type: "stdout"|"stderr", data}`, then one
   * `{type: "exit", exitCode, timedOut}`. A stream cut before its exit event throws {@link ConnectionFailed};
   * leaving the loop early closes the connection (the command runs on to its end inside).
   */
  execStream(cmd: string | readonly string[], options: ExecOptions & RequestOptions = {}): AsyncGenerator<ExecEvent, void, undefined> {
    return this.events(execBody(cmd, options), options); // the command is checked now, not at the first iteration
  }

  private async *events(json: Record<string, unknown>, options: RequestOptions): AsyncGenerator<ExecEvent, void, undefined> {
    const transport = this.client.transport;
    const scope = transport.scope(options);
    try {
      const response = await transport.open({ method: "POST", path: this.path("/exec"), json, accept: NDJSON }, scope);
      if (options.timeoutMs === undefined) scope.clearDeadline();
      if (!response.body) throw new ConnectionFailed(`the exec stream from ${transport.url} had no body`);
      for await (const line of ndjson(response.body, scope)) {
        const ev = (line ?? {}) as Record<string, unknown>;
        if (ev["type"] === "stdout" || ev["type"] === "stderr") {
          yield { type: ev["type"], data: String(ev["data"] ?? "") };
        } else if (ev["type"] === "exit") {
          yield { type: "exit", exitCode: typeof ev["exit_code"] === "number" ? ev["exit_code"] : -1, timedOut: Boolean(ev["timed_out"]) };
          return;
        } else if (ev["type"] === "error") {
          throw new BhattiError(`the command failed in sandbox ${this.name ?? this.id}: ${String(ev["data"] ?? "")}`);
        } // other types are newer than this client: skipped
      }
      throw new ConnectionFailed(`the exec stream from ${transport.url} ended before the command did (no exit event)`);
    } finally {
      scope.dispose();
    }
  }

  /** Puts the whole machine (memory, processes) to disk; `start()` brings it back as it was. */
  async stop(options: RequestOptions = {}): Promise<this> {
    this.info = sandboxInfo(await this.client.transport.json({ method: "POST", path: this.path("/stop"), json: {}, ...req(options) }));
    return this;
  }

  /** Resumes a stopped sandbox where it was; `force` boots its disk instead. */
  async start(options: { force?: boolean } & RequestOptions = {}): Promise<this> {
    const json = options.force ? { force: true } : {};
    this.info = sandboxInfo(await this.client.transport.json({ method: "POST", path: this.path("/start"), json, ...req(options) }));
    return this;
  }

  /** A named snapshot of the machine as it is now; `bhatti.snapshots.resume(name)` starts a copy. A taken name is a Conflict. */
  async snapshot(name: string, options: RequestOptions = {}): Promise<SnapshotInfo> {
    const json = { name: checkName("a snapshot name", name) };
    return snapshotInfo(await this.client.transport.json({ method: "POST", path: this.path("/checkpoint"), json, ...req(options) }));
  }

  /** Serves a guest port at a public name through the daemon's proxy (unauthenticated; wakes the sandbox on demand). */
  async publish(port: number, options: { alias?: string } & RequestOptions = {}): Promise<Published> {
    const json = options.alias ? { port: checkPort(port), alias: options.alias } : { port: checkPort(port) };
    return published(await this.client.transport.json({ method: "POST", path: this.path("/publish"), json, ...req(options) }));
  }

  async unpublish(port: number, options: RequestOptions = {}): Promise<void> {
    await this.client.transport.json({ method: "DELETE", path: this.path("/publish/" + checkPort(port)), ...req(options) });
  }

  /** The ports this sandbox publishes. */
  async published(options: RequestOptions = {}): Promise<Published[]> {
    const all = await this.client.transport.json<unknown[]>({ method: "GET", path: this.path("/publish"), ...req(options) });
    return all.map(published);
  }

  /** Destroys the sandbox: its VM and its disk. */
  async destroy(options: RequestOptions = {}): Promise<void> {
    await this.client.transport.json({ method: "DELETE", path: this.path(), ...req(options) });
  }
}

/** Files inside a sandbox, by absolute guest path. */
export class Files {
  constructor(private readonly client: Bhatti, private readonly sandbox: Sandbox) {}

  private path(path: string, extra = ""): string {
    return this.sandbox.path("/files?path=" + seg(guestPath(path)) + extra);
  }

  /** A file's bytes. */
  async read(path: string, options: RequestOptions = {}): Promise<Uint8Array> {
    return this.client.transport.bytes({ method: "GET", path: this.path(path), accept: "application/octet-stream", ...req(options) });
  }

  /** A file as text (UTF-8). */
  async readText(path: string, options: RequestOptions = {}): Promise<string> {
    return new TextDecoder().decode(await this.read(path, options));
  }

  /** Replaces a file atomically with text (written as UTF-8) or bytes. */
  async write(path: string, data: string | Uint8Array | ArrayBuffer, options: WriteOptions & RequestOptions = {}): Promise<void> {
    const body = typeof data === "string" ? new TextEncoder().encode(data) : data instanceof ArrayBuffer ? new Uint8Array(data) : data;
    if (!(body instanceof Uint8Array)) throw new BhattiError("a file's contents are a string, a Uint8Array or an ArrayBuffer");
    const extra = options.mode === undefined ? "" : "&mode=" + fileMode(options.mode);
    await this.client.transport.json({ method: "PUT", path: this.path(path, extra), body, ...req(options) });
  }

  /** A directory's entries. */
  async list(path: string, options: RequestOptions = {}): Promise<FileEntry[]> {
    const all = await this.client.transport.json<unknown[]>({ method: "GET", path: this.path(path, "&ls=true"), ...req(options) });
    return all.map(fileEntry);
  }
}

/** Only the request options of an options object (the rest is the call's body). */
function req(options: RequestOptions): RequestOptions {
  const out: RequestOptions = {};
  if (options.signal) out.signal = options.signal;
  if (options.timeoutMs !== undefined) out.timeoutMs = options.timeoutMs;
  return out;
}
