"""The one exception tree of newsner.

Library code raises these; only the CLI turns them into one line on stderr and an exit code.

    NewsnerError
     ├── InputError            bad user input: a file, a line, an option (names the place and the fix)
     │    ├── IngestError      an input file that cannot become an Article
     │    └── FormatError      an annotation/CoNLL/doccano file that cannot be read
     ├── SchemaError           labels.json or a record that breaks a data contract
     ├── WorkspaceError        a folder newsner must write is a file, read-only, unreachable or full
     ├── CorpusError           the corpus store (missing folder, corrupt shard, ...)
     │    └── CorpusLockedError  another process holds the corpus lock
     ├── AnnotationError       spans that do not fit their text, unknown labels, hash mismatches
     ├── AlignmentError        spans that do not fit the tokens (raised only under --strict)
     ├── ExportError           dataset/DocBin/CoNLL writing
     ├── ModelError            training, evaluation, prediction
     └── DoccanoError          anything about doccano
          ├── DoccanoServerError      installing, starting, stopping the local server
          ├── DoccanoConnectionError  nobody answers at the URL
          ├── DoccanoAuthError        401/403
          ├── DoccanoAPIError         any other unexpected answer (status, url, server message)
          └── DoccanoTaskError        an import/export task that failed (with doccano's per-line errors)
"""

from __future__ import annotations


class NewsnerError(Exception):
    """Base class for every error newsner raises on purpose."""


class InputError(NewsnerError, ValueError):
    """Bad user input; the message names the file/line/option and what to do."""


class IngestError(InputError):
    """An input file that cannot be turned into an Article."""


class FormatError(InputError):
    """An annotation file (doccano JSONL, CoNLL, re3d) that cannot be read."""


class SchemaError(NewsnerError, ValueError):
    """A label schema or a record that breaks a data contract."""


class WorkspaceError(NewsnerError):
    """A place newsner must write cannot be written; the message names the path and the fix.

    Raised before anything is written (the pre-flight check of a command), so the workspace is unchanged.
    """

    def __init__(self, message: str, *, path: object | None = None) -> None:
        super().__init__(message)
        self.path = path


class CorpusError(NewsnerError):
    """The corpus store cannot be read or written."""


class CorpusLockedError(CorpusError):
    """Another process holds the corpus lock."""


class AnnotationError(NewsnerError):
    """Annotations that do not fit their text or schema."""


class AlignmentError(NewsnerError):
    """Spans that do not fit token boundaries (raised under --strict)."""


class ExportError(NewsnerError):
    """An export that cannot be written."""


class ModelError(NewsnerError):
    """Training, evaluation or prediction failed."""


class ServeError(ModelError):
    """The model server (`newsner serve`) could not start, or does not answer."""


class DoccanoError(NewsnerError):
    """Anything about doccano."""


class DoccanoServerError(DoccanoError):
    """Installing, starting or stopping the local doccano failed."""


class DoccanoConnectionError(DoccanoError, ConnectionError):
    """No doccano answers at the configured URL."""


class DoccanoAuthError(DoccanoError, PermissionError):
    """doccano refused the credentials or the token (401/403)."""


class DoccanoAPIError(DoccanoError):
    """doccano answered something unexpected; keeps status, URL and the server's message."""

    def __init__(self, message: str, *, status: int | None = None, url: str | None = None,
                 body: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.url = url
        self.body = body


class DoccanoTaskError(DoccanoError):
    """A doccano import/export task failed; `errors` holds doccano's per-line messages."""

    def __init__(self, message: str, *, errors: list[object] | None = None) -> None:
        super().__init__(message)
        self.errors = errors or []
