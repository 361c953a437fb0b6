"""The asyncio face of the client: the same calls, awaited.

    from bhatti.aio import AsyncBhatti
    async with AsyncBhatti() as bhatti:
        sb = await bhatti.sandboxes.create(name="agent")
        print((await sb.exec("uname", "-a")).stdout)
        async for ev in sb.exec_stream(["make", "test"]):
            print(ev.get("data", ""), end="")

Still the standard library alone: each request runs on a worker thread (``asyncio.to_thread``), so many
sandboxes can be driven at once from one event loop without blocking it. A stream is read by a thread of
its own; leaving an ``async for`` early (break, cancellation) closes the connection and ends that thread.
"""

from __future__ import annotations

import asyncio
import socket
import threading
from typing import Any, AsyncIterator, Dict, List, Mapping, Optional, Sequence, Union

from .client import Bhatti, ExecResult, FileEntry, Sandbox, _events

_DONE = object()


def _abort(response: Any) -> None:
    """Closes a streamed answer so that a thread blocked reading it wakes up: closing the file alone does not
    interrupt a blocked read on Linux, shutting the socket down does."""
    sock = getattr(getattr(getattr(response, "fp", None), "raw", None), "_sock", None)
    if sock is not None:
        try:
            sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    response.close()


class AsyncBhatti:
    """A connection to a daemon; arguments and configuration as for :class:`bhatti.Bhatti`."""

    def __init__(self, url: Optional[str] = None, token: Optional[str] = None, timeout: float = 600.0):
        self.sync = Bhatti(url, token, timeout)
        self.sandboxes = AsyncSandboxes(self.sync)
        self.snapshots = AsyncSnapshots(self.sync)
        self.secrets = AsyncSecrets(self.sync)

    @property
    def url(self) -> str:
        return self.sync.url

    async def __aenter__(self) -> "AsyncBhatti":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        return None


class AsyncSandboxes:
    def __init__(self, client: Bhatti):
        self._s = client.sandboxes

    async def create(self, name: Optional[str] = None, **kwargs: Any) -> "AsyncSandbox":
        """Creates a sandbox (same arguments as ``Bhatti().sandboxes.create``); returns once its agent answers."""
        return AsyncSandbox(await asyncio.to_thread(self._s.create, name, **kwargs))

    async def get(self, name_or_id: str) -> "AsyncSandbox":
        return AsyncSandbox(await asyncio.to_thread(self._s.get, name_or_id))

    async def list(self) -> List["AsyncSandbox"]:
        return [AsyncSandbox(s) for s in await asyncio.to_thread(self._s.list)]


class AsyncSnapshots:
    def __init__(self, client: Bhatti):
        self._s = client.snapshots

    async def list(self) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self._s.list)

    async def resume(self, snapshot: str, name: Optional[str] = None) -> "AsyncSandbox":
        return AsyncSandbox(await asyncio.to_thread(self._s.resume, snapshot, name))

    async def delete(self, snapshot: str) -> None:
        await asyncio.to_thread(self._s.delete, snapshot)


class AsyncSecrets:
    def __init__(self, client: Bhatti):
        self._s = client.secrets

    async def set(self, name: str, value: str) -> Dict[str, Any]:
        return await asyncio.to_thread(self._s.set, name, value)

    async def list(self) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self._s.list)

    async def get(self, name: str) -> Dict[str, Any]:
        return await asyncio.to_thread(self._s.get, name)

    async def delete(self, name: str) -> None:
        await asyncio.to_thread(self._s.delete, name)


class AsyncSandbox:
    """One sandbox; ``sync`` is the blocking :class:`bhatti.Sandbox` behind it."""

    def __init__(self, sandbox: Sandbox):
        self.sync = sandbox
        self.files = AsyncFiles(sandbox)

    id = property(lambda self: self.sync.id)
    name = property(lambda self: self.sync.name)
    status = property(lambda self: self.sync.status)
    data = property(lambda self: self.sync.data)

    def __repr__(self) -> str:
        return f"AsyncSandbox(name={self.name!r}, id={self.id!r}, status={self.status!r})"

    async def refresh(self) -> "AsyncSandbox":
        await asyncio.to_thread(self.sync.refresh)
        return self

    async def exec(self, *cmd: str, **kwargs: Any) -> ExecResult:
        """Runs a command to its end (arguments as ``Sandbox.exec``); a non-zero exit is a result, not an error."""
        return await asyncio.to_thread(self.sync.exec, *cmd, **kwargs)

    async def exec_stream(self, cmd: Sequence[str], **kwargs: Any) -> AsyncIterator[Dict[str, Any]]:
        """Yields the command's events as they happen, like ``Sandbox.exec_stream``."""
        loop = asyncio.get_running_loop()
        response = await asyncio.to_thread(self.sync._open_stream, cmd, kwargs.get("env"), kwargs.get("cwd"),
                                           kwargs.get("user"), kwargs.get("stdin"), kwargs.get("timeout"))
        queue: asyncio.Queue = asyncio.Queue()
        url = self.sync._c.url

        def pump() -> None:
            try:
                for event in _events(response, url):
                    loop.call_soon_threadsafe(queue.put_nowait, event)
                loop.call_soon_threadsafe(queue.put_nowait, _DONE)
            except BaseException as e:  # handed to the awaiting side, raised there
                try:
                    loop.call_soon_threadsafe(queue.put_nowait, e)
                except RuntimeError:
                    pass  # the loop is closed: nobody is waiting any more

        reader = threading.Thread(target=pump, name="bhatti-exec-stream", daemon=True)
        reader.start()
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            _abort(response)  # ends the reader if the consumer left early

    async def stop(self) -> "AsyncSandbox":
        await asyncio.to_thread(self.sync.stop)
        return self

    async def start(self) -> "AsyncSandbox":
        await asyncio.to_thread(self.sync.start)
        return self

    async def snapshot(self, name: str) -> Dict[str, Any]:
        return await asyncio.to_thread(self.sync.snapshot, name)

    async def publish(self, port: int, alias: Optional[str] = None) -> Dict[str, Any]:
        return await asyncio.to_thread(self.sync.publish, port, alias)

    async def unpublish(self, port: int) -> None:
        await asyncio.to_thread(self.sync.unpublish, port)

    async def published(self) -> List[Dict[str, Any]]:
        return await asyncio.to_thread(self.sync.published)

    async def destroy(self) -> None:
        await asyncio.to_thread(self.sync.destroy)


class AsyncFiles:
    def __init__(self, sandbox: Sandbox):
        self._f = sandbox.files

    async def read(self, path: str) -> bytes:
        return await asyncio.to_thread(self._f.read, path)

    async def read_text(self, path: str, encoding: str = "utf-8") -> str:
        return await asyncio.to_thread(self._f.read_text, path, encoding)

    async def write(self, path: str, data: Union[str, bytes], mode: Optional[int] = None) -> None:
        await asyncio.to_thread(self._f.write, path, data, mode)

    async def list(self, path: str) -> List[FileEntry]:
        return await asyncio.to_thread(self._f.list, path)
