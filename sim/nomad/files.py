"""The allocation filesystem endpoints (`/v1/client/fs/...`), over a small made-up alloc directory.

Each allocation has Nomad's layout: `alloc/{data,logs,tmp}` shared by its tasks and one folder per
task with `local/`, `secrets/` and `tmp/`. Logs say the task started; a failing task's stderr says
why it failed. Like Nomad, a node that is not up answers "No path to node".
"""
from __future__ import annotations

import base64
import json
from typing import Any, Callable

from sim.httpserver import Response
from sim.nomad.model import Alloc
from sim.nomad.views import ApiError, Call, Views

MODIFIED = "2026-01-01T00:00:00Z"


def tree(alloc: Alloc) -> dict[str, str | None]:
    """path -> file content (None for a folder)."""
    files: dict[str, str | None] = {"/": None, "/alloc": None, "/alloc/data": None, "/alloc/tmp": None,
                                    "/alloc/logs": None}
    for task in alloc.group.tasks:
        failing = task.name == alloc.failing_task
        reason = alloc.events[-2].message if failing and len(alloc.events) > 1 else ""
        files.update({f"/{task.name}": None, f"/{task.name}/local": None, f"/{task.name}/secrets": None,
                      f"/{task.name}/tmp": None,
                      f"/alloc/logs/{task.name}.stdout.0": f"{task.name}: starting ({task.driver})\n",
                      f"/alloc/logs/{task.name}.stderr.0": f"{task.name}: {reason}\n" if failing else ""})
    return files


def entry(path: str, content: str | None) -> dict[str, Any]:
    return {"Name": path.rstrip("/").rsplit("/", 1)[-1] or "/", "IsDir": content is None,
            "Size": 4096 if content is None else len(content.encode()),
            "FileMode": "drwxrwxrwx" if content is None else "-rw-r--r--", "ModTime": MODIFIED,
            "ContentType": "" if content is None else "text/plain; charset=utf-8"}


class Files:
    def __init__(self, views: Views):
        self.views = views

    def routes(self) -> list[tuple[str, str | None, Callable[..., Any]]]:
        ns = "namespace:read"
        return [(r"/v1/client/fs/ls/([^/]+)", ns, self.ls), (r"/v1/client/fs/stat/([^/]+)", ns, self.stat),
                (r"/v1/client/fs/cat/([^/]+)", ns, self.cat), (r"/v1/client/fs/readat/([^/]+)", ns, self.read_at),
                (r"/v1/client/fs/stream/([^/]+)", ns, self.stream), (r"/v1/client/fs/logs/([^/]+)", ns, self.logs)]

    def files(self, call: Call, alloc_id: str) -> dict[str, str | None]:
        alloc = self.views.alloc_of(call, alloc_id)
        if alloc.node.status != "ready":
            raise ApiError(500, "No path to node")
        return tree(alloc)

    def file(self, call: Call, alloc_id: str) -> tuple[str, str | None]:
        path = "/" + (call.request.param("path") or "/").strip("/")
        files = self.files(call, alloc_id)
        if path not in files:
            raise ApiError(404, f"stat {path}: no such file or directory")
        return path, files[path]

    def ls(self, call: Call, alloc_id: str) -> Any:
        path, content = self.file(call, alloc_id)
        if content is not None:
            return [entry(path, content)]
        prefix = path.rstrip("/") + "/"
        return [entry(p, c) for p, c in self.files(call, alloc_id).items()
                if p.startswith(prefix) and "/" not in p[len(prefix):] and p != path]

    def stat(self, call: Call, alloc_id: str) -> Any:
        return entry(*self.file(call, alloc_id))

    def text(self, call: Call, alloc_id: str) -> str:
        path, content = self.file(call, alloc_id)
        if content is None:
            raise ApiError(400, f"file {path!r} is a directory")
        return content

    def cat(self, call: Call, alloc_id: str) -> Response:
        return Response(200, self.text(call, alloc_id), {"Content-Type": "text/plain; charset=utf-8"})

    def read_at(self, call: Call, alloc_id: str) -> Response:
        data = self.text(call, alloc_id).encode()
        offset, limit = int(call.request.param("offset") or 0), int(call.request.param("limit") or len(data))
        return Response(200, data[offset:offset + limit], {"Content-Type": "text/plain; charset=utf-8"})

    def stream(self, call: Call, alloc_id: str) -> Response:
        return _frames(self.text(call, alloc_id), call.request.param("path") or "")

    def logs(self, call: Call, alloc_id: str) -> Response:
        kind = call.request.param("type") or "stdout"
        task = call.request.param("task") or ""
        files = self.files(call, alloc_id)
        content = files.get(f"/alloc/logs/{task}.{kind}.0")
        if content is None:
            raise ApiError(404, f"failed to list entries: open alloc/logs/{task}.{kind}.0: no such file")
        if call.flag("plain", False):
            return Response(200, content, {"Content-Type": "text/plain; charset=utf-8"})
        return _frames(content, f"alloc/logs/{task}.{kind}.0")


def _frames(content: str, name: str) -> Response:
    """Nomad's streaming frames (base64 data with the file and offset), here one frame and the end."""
    frame = {"Data": base64.b64encode(content.encode()).decode(), "File": name, "Offset": len(content.encode())}
    return Response(200, json.dumps(frame) if content else "{}", {"Content-Type": "application/json"})
