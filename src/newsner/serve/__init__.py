"""`newsner serve`: suggestions behind a small HTTP endpoint on 127.0.0.1 for doccano's auto-labeling.

`app` builds the ASGI application (starlette), `process` starts and stops it by PID like the doccano server
(state under WORKSPACE/.newsner/serve/), `run` is the process's entry point (`python -m newsner.serve.run`).
"""

from newsner.errors import ServeError
from newsner.serve.process import ModelServer, ServeInfo, ServeStatus

__all__ = ["ModelServer", "ServeError", "ServeInfo", "ServeStatus"]
