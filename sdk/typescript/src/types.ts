/** The shapes the client speaks: camelCase here, snake_case on the wire (server/src/main/resources/openapi.json). */

/** What the daemon says about a sandbox. */
export interface SandboxInfo {
  id: string;
  name: string;
  status: "starting" | "running" | "stopped" | "error" | string;
  /** hot (running), warm (paused, in memory), cold (on disk) */
  thermal?: "hot" | "warm" | "cold" | "" | string;
  detail?: string;
  cpus?: number;
  memoryMb?: number;
  image?: string;
  engine?: string;
  accelerator?: string;
  ip?: string | null;
  egress?: "all" | "none" | null;
  allowHosts?: string[] | null;
  keepHot?: boolean;
  diskBytes?: number | null;
  createdAt?: string;
  volumes?: VolumeMount[];
  /** create only: the sandbox is below its image's recommended size */
  warnings?: string[];
}

export interface VolumeMount {
  name: string;
  /** an absolute path in the guest */
  mount: string;
  readOnly?: boolean;
}

export interface CreateOptions {
  /** Create is idempotent by name: a sandbox of that name that exists already comes back as it is. */
  name?: string;
  /** a tier (default minimal), one of your images, or one shared with you */
  image?: string;
  cpus?: number;
  memoryMb?: number;
  env?: Record<string, string>;
  /** a shell script run as the sandbox's init session */
  init?: string;
  /** names of your secrets, set as environment variables inside */
  secrets?: string[];
  keepHot?: boolean;
  diskSizeMb?: number;
  egress?: "all" | "none";
  allowHosts?: string[];
  runEntrypoint?: boolean;
  volumes?: VolumeMount[];
}

export interface ExecOptions {
  env?: Record<string, string>;
  cwd?: string;
  user?: string;
  /** given to the command's standard input, which is then closed */
  stdin?: string;
  /** the command's own time limit inside the sandbox, in seconds (the result then says timedOut) */
  timeoutSec?: number;
}

/** What a command did. A non-zero exit is a result, not an error. */
export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  /** the daemon keeps at most 10 MB of output; more is cut and this is true */
  truncated: boolean;
  /** exit code 0 and not timed out */
  ok: boolean;
}

/** One event of a streamed exec: output as it comes, then exactly one exit event. */
export type ExecEvent =
  | { type: "stdout" | "stderr"; data: string; exitCode?: undefined; timedOut?: undefined }
  | { type: "exit"; exitCode: number; timedOut: boolean; data?: undefined };

export interface FileEntry {
  name: string;
  size: number;
  /** octal permission bits, e.g. "0644" */
  mode: string;
  isDir: boolean;
  type: string;
  mtime?: string;
}

export interface WriteOptions {
  /** permission bits, e.g. 0o600 (default 0o644) */
  mode?: number;
}

export interface SnapshotInfo {
  id: string;
  name: string;
  status?: "creating" | "ready" | string;
  sourceSandbox?: string;
  sourceSandboxId?: string;
  cpus?: number;
  memoryMb?: number;
  image?: string;
  sizeBytes?: number;
  sizeMb?: number;
  createdAt?: string;
}

export interface SecretInfo {
  name: string;
  createdAt?: string;
  updatedAt?: string;
}

export interface Published {
  id: string;
  sandboxId: string;
  port: number;
  alias: string;
  /** the public URL; null when no public proxy runs (urlUnavailable says why) */
  url: string | null;
  urlUnavailable?: string;
  createdAt?: string;
  certificate?: string;
}
