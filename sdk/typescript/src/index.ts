/** bhatti: a client for the bhatti daemon's REST API (self-hosted Linux microVM sandboxes), on global fetch alone. */
export { Bhatti, Sandbox, Sandboxes, Snapshots, Secrets, Files } from "./client.js";
export type { BhattiOptions } from "./client.js";
export type { RequestOptions } from "./http.js";
export type {
  CreateOptions, ExecEvent, ExecOptions, ExecResult, FileEntry, Published, SandboxInfo, SecretInfo, SnapshotInfo, VolumeMount,
  WriteOptions,
} from "./types.js";
export {
  AuthenticationError, BhattiError, Conflict, ConnectionFailed, Forbidden, InvalidRequest, NotFound, RateLimited, ServerError,
  TimeoutError, errorForStatus,
} from "./errors.js";
