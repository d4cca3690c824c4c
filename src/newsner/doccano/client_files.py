"""doccano's file import and export (celery tasks) and its health checks, mixed into `DoccanoClient`."""

from __future__ import annotations

import io
import time
import zipfile
from pathlib import PurePosixPath
from typing import Any

import orjson

from newsner.doccano import models
from newsner.doccano.client_http import DoccanoHTTP
from newsner.errors import DoccanoAPIError, DoccanoTaskError

#: The error doccano reports for every file that simply has no label column; newsner imports unlabelled
#: documents on purpose, so this one is not a failure.
_NO_LABEL_COLUMN = "Column {column} not found in the file"


class FilesMixin(DoccanoHTTP):
    """Bulk files and the tasks that process them."""

    def import_jsonl(self, project_id: int, data: bytes, *, filename: str = "import.jsonl",
                     column_data: str = "text", column_label: str = "label", relations: bool = False,
                     timeout: float = 600) -> None:
        """Import a JSONL file through doccano's celery task and wait for it.

        Lines are doccano's import shape: {"text", "label": [[start, end, "NAME"], ...], other keys -> meta}.
        With `relations` (a sequence-labeling project with `use_relation`), doccano's "JSONL(Relation)" shape
        instead: {"text", "entities": [{"id", "start_offset", "end_offset", "label"}], "relations": [{"id",
        "from_id", "to_id", "type"}] (entity ids of the same line), other keys -> meta}. Every relation must point
        at an entity of its line that doccano keeps: a dangling one fails the whole task, which celery retries.
        Unknown label or relation type names become new types with random colours, so create the types first.

        Raises:
            DoccanoTaskError: the task failed, or doccano reported problems (`errors` holds them; lines without
                problems were imported).
        """
        upload_id = self._request("POST", "/v1/fp/process/", files={"filepond": (filename, data,
                                                                                 "application/octet-stream")},
                                  timeout=max(self.timeout, 120.0), expect="text",
                                  headers={"Accept": "text/plain, */*"}).strip()  # it answers text, 406 otherwise
        if not upload_id or "<" in upload_id or len(upload_id) > 100:
            raise DoccanoAPIError(f"doccano answered the file upload for project {project_id} with an unexpected "
                                  "body instead of an upload id (wrong URL?)", url=f"{self.base_url}/v1/fp/process/")
        started = self._request("POST", f"/v1/projects/{int(project_id)}/upload", json={
            "uploadIds": [upload_id], "format": models.IMPORT_FORMAT,
            "task": models.RELATION_IMPORT_TASK if relations else models.PROJECT_TYPE,
            "column_data": column_data, "column_label": column_label})
        status = self.wait_task(str(started["task_id"]), timeout=timeout)
        result = status.get("result") or {}
        errors: list[dict[str, Any]] = [e for e in (result.get("error") or []) if isinstance(e, dict)
                                         and e.get("message") != _NO_LABEL_COLUMN.format(column=column_label)]
        if errors:
            for e in errors:  # doccano names its temp upload path; the user knows the file by the name they gave
                if e.get("filename") and e["filename"] != filename:
                    e["filename"] = filename
            shown = "; ".join(f"line {e.get('line', '?')}: {e.get('message', e)}" for e in errors[:5])
            more = f" (and {len(errors) - 5} more)" if len(errors) > 5 else ""
            raise DoccanoTaskError(
                f"doccano reported {len(errors)} problem(s) importing {filename} into project {project_id}: "
                f"{shown}{more}; the other lines were imported", errors=list(errors))

    def export_jsonl(self, project_id: int, *, only_approved: bool = False,
                     timeout: float = 600) -> dict[str, list[dict[str, Any]]]:
        """Export the project as JSONL through doccano's celery task.

        Returns:
            {file stem: [decoded lines]}: one entry per member (their spans on every example) for a
            non-collaborative project, a single "all" entry for a collaborative one.
        """
        task_id = self.start_export(project_id, only_approved=only_approved)
        self.wait_task(task_id, timeout=timeout)
        blob = self.download_export(project_id, task_id)
        try:
            archive = zipfile.ZipFile(io.BytesIO(blob))
        except zipfile.BadZipFile:
            raise DoccanoAPIError(f"doccano's export of project {project_id} is not a zip file "
                                  f"(starts with {blob[:60]!r})", url=f"{self.base_url}/v1/projects/{project_id}"
                                  "/download") from None
        out: dict[str, list[dict[str, Any]]] = {}
        with archive:
            for name in archive.namelist():
                if name.endswith("/"):
                    continue
                lines: list[dict[str, Any]] = []
                for lineno, raw in enumerate(archive.read(name).splitlines(), 1):
                    if not raw.strip():
                        continue
                    try:
                        lines.append(orjson.loads(raw))
                    except orjson.JSONDecodeError as exc:
                        raise DoccanoAPIError(f"doccano's export of project {project_id}: {name}:{lineno}: not "
                                              f"valid JSON ({exc})") from None
                out[PurePosixPath(name).stem] = lines
        return out

    def start_export(self, project_id: int, *, only_approved: bool = False) -> str:
        """Start doccano's JSONL export task; returns its task id (wait for it with `wait_task`)."""
        started = self._request("POST", f"/v1/projects/{int(project_id)}/download",
                                json={"format": models.IMPORT_FORMAT, "exportApproved": bool(only_approved)})
        return str(started["task_id"])

    def download_export(self, project_id: int, task_id: str) -> bytes:
        """The zip a finished export task made."""
        return bytes(self._request("GET", f"/v1/projects/{int(project_id)}/download", params={"taskId": task_id},
                                   timeout=max(self.timeout, 300.0), expect="bytes", headers={"Accept": "*/*"}))

    def wait_task(self, task_id: str, *, timeout: float) -> dict[str, Any]:
        """Poll a celery task until it is ready: first after 0.05 s, growing to every 0.5 s.

        Raises:
            DoccanoTaskError: the task raised, or did not finish within `timeout` seconds.
        """
        deadline = time.monotonic() + timeout
        delay = 0.05
        while True:
            status = self._get_json(f"/v1/tasks/status/{task_id}")
            if status.get("ready"):
                if status.get("error"):
                    error = status["error"]
                    text = error.get("text", error) if isinstance(error, dict) else error
                    raise DoccanoTaskError(f"doccano task {task_id} failed: {text}", errors=[error])
                return dict(status)
            if time.monotonic() + delay > deadline:
                raise DoccanoTaskError(
                    f"doccano task {task_id} did not finish within {timeout:g} s — is its celery worker running? "
                    "(`newsner doccano status`; the local worker logs to .newsner/doccano/logs/celery.log)")
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)

    def health(self) -> dict[str, str]:
        """doccano's health checks ({"CeleryHealthCheckCelery": "OK", ...}: "OK" or the problem); needs no login."""
        try:
            return dict(self._get_json("/v1/health/", format="json"))
        except DoccanoAPIError as exc:
            # django-health-check answers a failing check with HTTP 500 and the same JSON body.
            if exc.status == 500 and exc.body:
                try:
                    body = orjson.loads(exc.body)
                except orjson.JSONDecodeError:
                    raise exc from None
                if isinstance(body, dict):
                    return {str(k): str(v) for k, v in body.items()}
            raise
