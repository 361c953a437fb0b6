"""A small synchronous client for the bhatti REST API, on the standard library alone."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterator, List, Mapping, Optional, Sequence, Union

from . import errors

DEFAULT_URL = "http://127.0.0.1:8080"


def _config_file() -> Path:
    explicit = os.environ.get("BHATTI_CONFIG")
    return Path(explicit) if explicit else Path.home() / ".bhatti" / "config.yaml"


def _read_config(path: Path) -> Dict[str, str]:
    """The CLI's config file: top-level ``api_url:`` and ``auth_token:`` lines (flat YAML)."""
    values: Dict[str, str] = {}
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        return values
    for line in text.splitlines():
        if not line or line[0] in " \t#" or ":" not in line:
            continue
        key, _, value = line.partition(":")
        value = value.split(" #", 1)[0].strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[key.strip()] = value
    return values


@dataclass
class ExecResult:
    """What a command did: its exit code and its output (capped by the daemon at 10 MB; ``truncated`` then)."""

    exit_code: int
    stdout: str
    stderr: str
    timed_out: bool = False
    truncated: bool = False

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out


@dataclass
class FileEntry:
    name: str
    size: int
    mode: str
    is_dir: bool
    type: str
    mtime: Any = None


class Bhatti:
    """A connection to a daemon. ``url`` and ``token`` default to BHATTI_URL / BHATTI_TOKEN, then to the
    CLI's config file (``~/.bhatti/config.yaml`` or BHATTI_CONFIG), then to the local default."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 600.0):
        url = url or os.environ.get("BHATTI_URL") or None
        token = token or os.environ.get("BHATTI_TOKEN") or None
        if url is None or token is None:
            file = _read_config(_config_file())
            url = url or file.get("api_url") or None
            token = token or file.get("auth_token") or None
        self.url = (url or DEFAULT_URL).rstrip("/")
        self.token = token
        self.timeout = timeout
        self.sandboxes = Sandboxes(self)
        self.snapshots = Snapshots(self)
        self.secrets = Secrets(self)

    def __enter__(self) -> "Bhatti":
        return self

    def __exit__(self, *exc: Any) -> None:
        return None

    # ------------------------------------------------------------------ HTTP
    def _open(self, method: str, path: str, body: Union[bytes, None] = None, content_type: Optional[str] = None,
              accept: str = "application/json", timeout: Optional[float] = None):
        req = urllib.request.Request(self.url + path, data=body, method=method)
        req.add_header("Accept", accept)
        if content_type:
            req.add_header("Content-Type", content_type)
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            return urllib.request.urlopen(req, timeout=timeout or self.timeout)
        except urllib.error.HTTPError as e:
            raise self._error(e) from None
        except (urllib.error.URLError, OSError) as e:
            reason = getattr(e, "reason", e)
            raise errors.ConnectionFailed(f"cannot reach the bhatti daemon at {self.url}: {reason}") from None

    @staticmethod
    def _error(e: "urllib.error.HTTPError") -> errors.BhattiError:
        raw = e.read()
        try:
            message = json.loads(raw).get("error") or raw.decode("utf-8", "replace")
        except (ValueError, AttributeError):
            message = raw.decode("utf-8", "replace").strip() or e.reason
        retry = e.headers.get("Retry-After")
        try:
            retry_after = float(retry) if retry else None
        except ValueError:
            retry_after = None
        return errors.for_status(e.code, str(message), retry_after)

    def _json(self, method: str, path: str, payload: Any = None) -> Any:
        body = None if payload is None else json.dumps(payload).encode("utf-8")
        with self._open(method, path, body, "application/json" if body is not None else None) as r:
            try:
                raw = r.read()
            except OSError as e:
                raise errors.ConnectionFailed(f"the daemon at {self.url} went away mid-answer: {e}") from None
        return json.loads(raw) if raw else None


def _events(response, url: str) -> Iterator[Dict[str, Any]]:
    """The NDJSON events of an exec stream; one cut before its exit (or error) event raises ConnectionFailed."""
    ended = False
    try:
        for line in response:
            if not line.strip():
                continue
            event = json.loads(line)
            ended = ended or event.get("type") in ("exit", "error")
            yield event
    except (OSError, ValueError) as e:
        raise errors.ConnectionFailed(f"the exec stream from {url} broke: {e}") from None
    if not ended:
        raise errors.ConnectionFailed(f"the exec stream from {url} ended before the command did")


def _q(segment: str) -> str:
    return urllib.parse.quote(segment, safe="")


class Sandboxes:
    def __init__(self, client: Bhatti):
        self._c = client

    def create(self, name: Optional[str] = None, *, image: Optional[str] = None, cpus: Optional[float] = None,
               memory_mb: Optional[int] = None, env: Optional[Mapping[str, str]] = None, init: Optional[str] = None,
               secrets: Optional[Sequence[str]] = None, keep_hot: Optional[bool] = None,
               disk_size_mb: Optional[int] = None, **extra: Any) -> "Sandbox":
        """Creates a sandbox and returns once its agent answers. ``extra`` passes other create fields as they are."""
        body: Dict[str, Any] = {k: v for k, v in dict(name=name, image=image, cpus=cpus, memory_mb=memory_mb,
                                                       env=dict(env) if env else None, init=init,
                                                       secrets=list(secrets) if secrets else None, keep_hot=keep_hot,
                                                       disk_size_mb=disk_size_mb).items() if v is not None}
        body.update(extra)
        return Sandbox(self._c, self._c._json("POST", "/sandboxes", body))

    def get(self, name_or_id: str) -> "Sandbox":
        return Sandbox(self._c, self._c._json("GET", "/sandboxes/" + _q(name_or_id)))

    def list(self) -> List["Sandbox"]:
        return [Sandbox(self._c, s) for s in self._c._json("GET", "/sandboxes")]


class Snapshots:
    def __init__(self, client: Bhatti):
        self._c = client

    def list(self) -> List[Dict[str, Any]]:
        return self._c._json("GET", "/snapshots")

    def resume(self, snapshot: str, name: Optional[str] = None) -> "Sandbox":
        """A new sandbox from a snapshot, exactly as it was (memory, processes, files)."""
        return Sandbox(self._c, self._c._json("POST", "/snapshots/" + _q(snapshot) + "/resume",
                                             {"name": name} if name else {}))

    def delete(self, snapshot: str) -> None:
        self._c._json("DELETE", "/snapshots/" + _q(snapshot))


class Secrets:
    """Your secrets: values go in and never come back; a sandbox created with ``secrets=[name]`` gets them as env."""

    def __init__(self, client: Bhatti):
        self._c = client

    def set(self, name: str, value: str) -> Dict[str, Any]:
        """Creates or replaces a secret; answers its name and times, never its value."""
        if not isinstance(value, str):
            raise errors.InvalidRequest("a secret's value is a string")
        return self._c._json("POST", "/secrets", {"name": name, "value": value})

    def list(self) -> List[Dict[str, Any]]:
        return self._c._json("GET", "/secrets")

    def get(self, name: str) -> Dict[str, Any]:
        return self._c._json("GET", "/secrets/" + _q(name))

    def delete(self, name: str) -> None:
        self._c._json("DELETE", "/secrets/" + _q(name))


class Sandbox:
    """One sandbox. ``data`` is the daemon's last answer about it (id, name, status, cpus, memory_mb...)."""

    def __init__(self, client: Bhatti, data: Mapping[str, Any]):
        self._c = client
        self.data: Dict[str, Any] = dict(data)
        self.files = Files(client, self)

    id = property(lambda self: self.data["id"])
    name = property(lambda self: self.data.get("name"))
    status = property(lambda self: self.data.get("status"))

    def __repr__(self) -> str:
        return f"Sandbox(name={self.name!r}, id={self.id!r}, status={self.status!r})"

    def _path(self, suffix: str = "") -> str:
        return "/sandboxes/" + _q(self.id) + suffix

    def refresh(self) -> "Sandbox":
        self.data = self._c._json("GET", self._path())
        return self

    def exec(self, *cmd: str, env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None,
             user: Optional[str] = None, stdin: Optional[str] = None, timeout: Optional[int] = None) -> ExecResult:
        """Runs a command to its end: ``sb.exec("uname", "-a").stdout``. A non-zero exit is a result, not an error."""
        r = self._c._json("POST", self._path("/exec"), self._exec_body(cmd, env, cwd, user, stdin, timeout))
        return ExecResult(r.get("exit_code", -1), r.get("stdout", ""), r.get("stderr", ""),
                          bool(r.get("timed_out")), bool(r.get("truncated")))

    def exec_stream(self, cmd: Sequence[str], *, env: Optional[Mapping[str, str]] = None, cwd: Optional[str] = None,
                    user: Optional[str] = None, stdin: Optional[str] = None,
                    timeout: Optional[int] = None) -> Iterator[Dict[str, Any]]:
        """Runs a command and yields its events as they happen: ``{"type": "stdout"|"stderr", "data": ...}``,
        then ``{"type": "exit", "exit_code": N}``. A stream cut before its exit event raises ConnectionFailed."""
        with self._open_stream(cmd, env, cwd, user, stdin, timeout) as r:
            yield from _events(r, self._c.url)

    def _open_stream(self, cmd, env, cwd, user, stdin, timeout):
        body = json.dumps(self._exec_body(cmd, env, cwd, user, stdin, timeout)).encode("utf-8")
        return self._c._open("POST", self._path("/exec"), body, "application/json", accept="application/x-ndjson")

    @staticmethod
    def _exec_body(cmd: Sequence[str], env, cwd, user, stdin, timeout) -> Dict[str, Any]:
        if not cmd or not all(isinstance(c, str) for c in cmd):
            raise errors.InvalidRequest("exec needs a command: one or more strings")
        body: Dict[str, Any] = {"cmd": list(cmd)}
        if env:
            body["env"] = dict(env)
        if cwd:
            body["cwd"] = cwd
        if user:
            body["user"] = user
        if stdin is not None:
            body["stdin"] = stdin
        if timeout is not None:
            body["timeout_sec"] = timeout
        return body

    def stop(self) -> "Sandbox":
        """Puts the whole machine (memory, processes) to disk; ``start`` brings it back as it was."""
        self.data = self._c._json("POST", self._path("/stop"), {})
        return self

    def start(self) -> "Sandbox":
        self.data = self._c._json("POST", self._path("/start"), {})
        return self

    def snapshot(self, name: str) -> Dict[str, Any]:
        """A named checkpoint of the running machine; ``Bhatti().snapshots.resume(name)`` starts a copy."""
        return self._c._json("POST", self._path("/checkpoint"), {"name": name})

    def publish(self, port: int, alias: Optional[str] = None) -> Dict[str, Any]:
        """Serves a guest port at a public URL (``url`` in the answer; unauthenticated, wakes the sandbox on demand)."""
        if not isinstance(port, int) or not 1 <= port <= 65535:
            raise errors.InvalidRequest(f"a port is 1..65535: {port!r}")
        return self._c._json("POST", self._path("/publish"), {"port": port, **({"alias": alias} if alias else {})})

    def unpublish(self, port: int) -> None:
        self._c._json("DELETE", self._path(f"/publish/{int(port)}"))

    def published(self) -> List[Dict[str, Any]]:
        return self._c._json("GET", self._path("/publish"))

    def destroy(self) -> None:
        self._c._json("DELETE", self._path())


class Files:
    def __init__(self, client: Bhatti, sandbox: Sandbox):
        self._c = client
        self._s = sandbox

    def _path(self, path: str, extra: str = "") -> str:
        if not path.startswith("/"):
            raise errors.InvalidRequest(f"guest paths are absolute: {path!r}")
        return self._s._path("/files?path=" + _q(path) + extra)

    def read(self, path: str) -> bytes:
        with self._c._open("GET", self._path(path), accept="application/octet-stream") as r:
            return r.read()

    def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return self.read(path).decode(encoding)

    def write(self, path: str, data: Union[str, bytes], mode: Optional[int] = None) -> None:
        """Replaces the file atomically (owned by the default user)."""
        raw = data.encode("utf-8") if isinstance(data, str) else bytes(data)
        extra = "" if mode is None else "&mode=" + format(mode, "04o")
        with self._c._open("PUT", self._path(path, extra), raw, "application/octet-stream") as r:
            r.read()

    def list(self, path: str) -> List[FileEntry]:
        entries = self._c._json("GET", self._path(path, "&ls=true"))
        return [FileEntry(e.get("name"), e.get("size", 0), e.get("mode", ""), bool(e.get("is_dir")),
                          e.get("type", ""), e.get("mtime")) for e in entries]
