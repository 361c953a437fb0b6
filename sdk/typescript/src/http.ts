import { BhattiError, ConnectionFailed, TimeoutError, errorForStatus } from "./errors.js";

/** What every call takes last: a signal to cancel it and a deadline for it. */
export interface RequestOptions {
  /** Cancels the call; it then rejects with the signal's reason (an `AbortError` unless you gave one). */
  signal?: AbortSignal;
  /** The call's deadline in milliseconds (default: the client's `timeoutMs`); past it, a {@link TimeoutError}. */
  timeoutMs?: number;
}

export interface Call extends RequestOptions {
  method: string;
  path: string;
  json?: unknown;
  body?: Uint8Array | string;
  contentType?: string;
  accept?: string;
}

/**
 * One call's cancellation: the caller's signal and the deadline, joined into the one signal fetch gets (Node 18
 * has no AbortSignal.any). Whatever fails while it is open is explained by {@link Scope.failure}.
 */
export class Scope {
  private readonly controller = new AbortController();
  private timer: ReturnType<typeof setTimeout> | undefined;
  private readonly onAbort: () => void;

  constructor(private readonly url: string, private readonly caller: AbortSignal | undefined, timeoutMs: number | undefined) {
    this.onAbort = () => this.controller.abort(caller?.reason);
    if (caller?.aborted) this.onAbort();
    else caller?.addEventListener("abort", this.onAbort, { once: true });
    if (timeoutMs !== undefined && timeoutMs > 0 && Number.isFinite(timeoutMs)) {
      this.timer = setTimeout(
        () => this.controller.abort(new TimeoutError(`no complete answer from the bhatti daemon at ${this.url} within ${timeoutMs} ms`)),
        timeoutMs,
      );
    }
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The deadline no longer applies (a stream's headers came and the default deadline covers only those). */
  clearDeadline(): void {
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }

  dispose(): void {
    this.clearDeadline();
    this.caller?.removeEventListener("abort", this.onAbort);
  }

  /** The error to throw for `e`, thrown while `doing` ("reaching", "reading the answer from"...) the daemon. */
  failure(e: unknown, doing: string): unknown {
    if (this.controller.signal.aborted) return this.controller.signal.reason;
    if (e instanceof BhattiError) return e;
    const cause = (e as { cause?: { code?: string; message?: string } } | undefined)?.cause;
    const code = cause?.code ?? "";
    if (code === "UND_ERR_HEADERS_TIMEOUT" || code === "UND_ERR_BODY_TIMEOUT") {
      // undici's own limit (300 s without an answer or a byte of it), which global fetch cannot change
      return new TimeoutError(`the bhatti daemon at ${this.url} sent nothing for 300 s (fetch's own limit): ` +
        `stream long, silent commands with execStream or pass a fetch with a longer timeout`, 0, { cause: e });
    }
    const message = cause?.message || (e instanceof Error ? e.message : String(e));
    const why = code && !message.includes(code) ? `${message} (${code})` : message;
    return new ConnectionFailed(`${doing} the bhatti daemon at ${this.url} failed: ${why}`, 0, { cause: e });
  }
}

/** HTTP to one daemon: the bearer key, JSON bodies, and typed errors for every way a call can fail. */
export class Transport {
  readonly #token: string | undefined; // private for real: not in what console.log prints

  constructor(readonly url: string, token: string | undefined, readonly timeoutMs: number, private readonly fetchFn: typeof fetch) {
    this.#token = token;
  }

  /**
   * Sends a call and returns a 2xx response whose body is still to be read within `scope`; any other status
   * becomes its typed error. The caller disposes the scope once the body is read.
   */
  async open(call: Call, scope: Scope): Promise<Response> {
    const headers: Record<string, string> = { Accept: call.accept ?? "application/json" };
    if (this.#token) headers["Authorization"] = `Bearer ${this.#token}`;
    let body: Uint8Array | string | undefined = call.body;
    if (call.json !== undefined) {
      body = JSON.stringify(call.json);
      headers["Content-Type"] = "application/json";
    } else if (body !== undefined) {
      headers["Content-Type"] = call.contentType ?? "application/octet-stream";
    }
    let response: Response;
    try {
      response = await this.fetchFn(this.url + call.path, { method: call.method, headers, body, signal: scope.signal });
    } catch (e) {
      throw scope.failure(e, "reaching");
    }
    if (!response.ok) throw await this.error(response, scope);
    return response;
  }

  /** A call whose answer is JSON (or empty), read whole. */
  async json<T>(call: Call): Promise<T> {
    const text = await this.text(call);
    if (!text) return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new BhattiError(`the daemon at ${this.url} answered ${call.method} ${call.path} with something that is not JSON: ${text.slice(0, 200)}`);
    }
  }

  async text(call: Call): Promise<string> {
    return new TextDecoder().decode(await this.bytes(call));
  }

  async bytes(call: Call): Promise<Uint8Array> {
    const scope = this.scope(call);
    try {
      const response = await this.open(call, scope);
      try {
        return new Uint8Array(await response.arrayBuffer());
      } catch (e) {
        throw scope.failure(e, "reading the answer from");
      }
    } finally {
      scope.dispose();
    }
  }

  scope(options: RequestOptions): Scope {
    return new Scope(this.url, options.signal, options.timeoutMs ?? this.timeoutMs);
  }

  private async error(response: Response, scope: Scope): Promise<BhattiError> {
    let raw = "";
    try {
      raw = await response.text();
    } catch (e) {
      const failure = scope.failure(e, "reading an error from");
      if (!(failure instanceof ConnectionFailed)) throw failure;
    }
    let message = raw.trim() || response.statusText || `HTTP ${response.status}`;
    try {
      const parsed = JSON.parse(raw) as { error?: unknown };
      if (typeof parsed?.error === "string" && parsed.error) message = parsed.error;
    } catch {
      // not JSON (a proxy's page): the text is the message
    }
    return errorForStatus(response.status, message, retryAfter(response.headers.get("Retry-After")));
  }
}

/** Retry-After in seconds: a number of seconds or an HTTP date; undefined when absent or unreadable. */
export function retryAfter(value: string | null): number | undefined {
  if (!value) return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) return Number(value);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}
