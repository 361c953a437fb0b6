"""bhatti: self-hosted Linux microVM sandboxes.

    from bhatti import Bhatti
    sb = Bhatti().sandboxes.create(name="agent")
    print(sb.exec("uname", "-a").stdout)
"""

from .client import Bhatti, ExecResult, FileEntry, Files, Sandbox, Sandboxes, Secrets, Snapshots
from .errors import (AuthenticationError, BhattiError, Conflict, ConnectionFailed, InvalidRequest, NotFound,
                     PermissionDenied, RateLimited, ServerError)

__all__ = ["Bhatti", "Sandbox", "Sandboxes", "Snapshots", "Secrets", "Files", "ExecResult", "FileEntry", "BhattiError",
           "ConnectionFailed", "InvalidRequest", "AuthenticationError", "PermissionDenied", "NotFound", "Conflict",
           "RateLimited", "ServerError"]
__version__ = "0.1.0"
