"""Building doccano's own virtual environment and its database (the install half of LocalServer)."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING

from newsner._io import atomic_write_text
from newsner._procs import _tail
from newsner.doccano.models import DOCCANO_VERSION
from newsner.errors import DoccanoServerError
from newsner.workspace import Workspace

if TYPE_CHECKING:
    from newsner.workspace import Workspace

ENV_VENV = "NEWSNER_DOCCANO_VENV"
ENV_PYTHON = "NEWSNER_DOCCANO_PYTHON"
REQUIREMENTS = (f"doccano=={DOCCANO_VERSION}", "numpy<2", "marshmallow<4")
SETTINGS_MODULE = "newsner_doccano_settings"
_MARKER = ".newsner-doccano.json"

Progress = Callable[[str], None]

# Written into the state dir at every `up`. The SQLAlchemy broker polls once a second, adding ~1 s to every
# import/export; setting the class attribute is the only way that works (CELERY_BROKER_TRANSPORT_OPTIONS
# crashes the worker).
_SETTINGS = """\
# Written by newsner at every `newsner doccano up`; edits are overwritten.
from config.settings.production import *  # noqa: F401,F403

import kombu.transport.sqlalchemy

kombu.transport.sqlalchemy.Transport.polling_interval = 0.1
"""

# Runs inside the doccano venv. The admin password arrives on stdin, never on a command line (`ps` shows those).
_BOOTSTRAP = """\
import os
import shutil
import sys
import django
django.setup()
from django.core import management
from django.db import connection
args = sys.argv[1:]
if "--migrate" in args:
    management.call_command("migrate", verbosity=0, interactive=False)
    management.call_command("create_roles")
if "--template" in args:
    # Saved before the admin exists, so the template holds no password hash; a cache only: failures are fine.
    db, template = args[args.index("--template") + 1], args[args.index("--template") + 2]
    connection.close()
    try:
        os.makedirs(os.path.dirname(template), exist_ok=True)
        tmp = f"{template}.{os.getpid()}.tmp"
        shutil.copyfile(db, tmp)
        os.replace(tmp, template)
        print("saved the migrated database as", template)
    except OSError as exc:
        print("could not save the template:", exc)
if "--admin" in args:
    from django.contrib.auth import get_user_model
    username = args[args.index("--admin") + 1]
    password = sys.stdin.readline().rstrip("\\n")
    User = get_user_model()
    user = User.objects.filter(username=username).first()
    if user is None:
        User.objects.create_superuser(username, "", password)
    else:
        user.set_password(password)
        user.is_superuser = user.is_staff = True
        user.save()
    print("admin user ready:", username)
"""

_VERIFY = """\
import importlib.metadata as m, json
out = {}
for name in ("doccano", "numpy", "marshmallow", "gunicorn", "celery"):
    try:
        out[name] = m.version(name)
    except m.PackageNotFoundError:
        out[name] = None
print(json.dumps(out))
"""



@dataclass(frozen=True)
class InstallInfo:
    venv: Path
    reused: bool
    seconds: float
    log_path: Path | None = None



class DoccanoInstall:
    """`install` and `init_database` of a LocalServer (which provides the state paths and `_env`)."""

    venv: Path
    template_dir: Path
    state_dir: Path
    log_dir: Path
    db_path: Path
    credentials_path: Path
    workspace: Workspace

    if TYPE_CHECKING:
        def _env(self, backend: Path, db_path: Path | None = None) -> dict[str, str]: ...

        def _make_state_dir(self) -> None: ...

        def credentials(self) -> tuple[str, str]: ...

    # ------------------------------------------------------------------ install

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    def backend_dir(self) -> Path | None:
        """doccano's Django project inside the venv (site-packages/backend), or None."""
        found = sorted(self.venv.glob("lib/python*/site-packages/backend"))
        return found[0] if found else None

    def installed(self) -> bool:
        """Cheap check that the venv has what `up` runs (install() verifies versions)."""
        return all((self.venv / "bin" / name).exists() for name in ("python", "gunicorn", "celery")) \
            and self.backend_dir() is not None

    def _verify_venv(self) -> bool:
        """True when the venv holds the pinned doccano (a marker caches a successful check)."""
        if not self.installed():
            return False
        marker = self.venv / _MARKER
        with contextlib.suppress(OSError, ValueError):
            if json.loads(marker.read_text()).get("requirements") == list(REQUIREMENTS):
                return True
        try:
            out = subprocess.run([str(self.python), "-c", _VERIFY], capture_output=True, text=True, timeout=60)
            found = json.loads(out.stdout)
        except (OSError, ValueError, subprocess.SubprocessError):
            return False

        def major(name: str) -> int:
            return int(str(found.get(name) or "999").split(".")[0])

        if found.get("doccano") != DOCCANO_VERSION or major("numpy") >= 2 or major("marshmallow") >= 4 \
                or not found.get("gunicorn") or not found.get("celery"):
            return False
        atomic_write_text(marker, json.dumps({"requirements": list(REQUIREMENTS), "found": found}) + "\n")
        return True

    @staticmethod
    def _base_python() -> str:
        """An interpreter doccano 1.8.4 runs on: its pandas 1.5 has no wheels past Python 3.11."""
        env = os.environ.get(ENV_PYTHON, "").strip()
        if env:
            return env
        if (3, 8) <= sys.version_info[:2] <= (3, 11):
            return sys.executable
        for name in ("python3.11", "python3.10", "python3.9"):
            found = shutil.which(name)
            if found:
                return found
        raise DoccanoServerError(f"doccano {DOCCANO_VERSION} needs Python 3.8–3.11 (its pandas 1.5 has no newer "
                                 f"wheels): install python3.11 or set {ENV_PYTHON} to one")

    def install(self, progress: Progress | None = None, *, force: bool = False) -> InstallInfo:
        """Build doccano's venv (reused when it already holds the pinned versions).

        Raises:
            DoccanoServerError: no suitable Python, the path is not a venv, or pip failed (with its log tail).
        """
        say = progress or (lambda _msg: None)
        started = time.monotonic()
        if not force and self._verify_venv():
            return InstallInfo(self.venv, reused=True, seconds=time.monotonic() - started)
        python = self._base_python()
        if self.venv.exists():
            if not (self.venv / "pyvenv.cfg").exists() and any(self.venv.iterdir()):
                raise DoccanoServerError(f"{self.venv} exists and is not a virtual environment: remove it or set "
                                         f"{ENV_VENV} to another folder")
            say(f"removing the incomplete doccano environment at {self.venv}")
            shutil.rmtree(self.venv)
        self.venv.parent.mkdir(parents=True, exist_ok=True)
        log_path = self.venv.parent / f"{self.venv.name}-install.log"
        say(f"creating a virtual environment at {self.venv} ({python})")
        with open(log_path, "w", encoding="utf-8") as log:
            self._run_logged([python, "-m", "venv", str(self.venv)], log, log_path, "creating the venv")
            say(f"installing doccano {DOCCANO_VERSION} (1–2 minutes, ~700 MB; log: {log_path})")
            self._run_logged([str(self.python), "-m", "pip", "install", "--disable-pip-version-check",
                              "--no-input", *REQUIREMENTS], log, log_path, f"pip install {' '.join(REQUIREMENTS)}")
        if not self._verify_venv():
            raise DoccanoServerError(f"doccano was installed into {self.venv} but does not import as expected; "
                                     f"see {log_path}, then rerun `newsner doccano install --force`")
        return InstallInfo(self.venv, reused=False, seconds=time.monotonic() - started, log_path=log_path)

    @staticmethod
    def _run_logged(argv: list[str], log: IO[str], log_path: Path, what: str) -> None:
        log.write(f"$ {' '.join(argv)}\n")
        log.flush()
        result = subprocess.run(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        if result.returncode != 0:
            log.flush()
            raise DoccanoServerError(f"{what} failed (exit {result.returncode}); last lines of {log_path}:\n"
                                     f"{_tail(log_path)}")

    def _require_venv(self) -> Path:
        backend = self.backend_dir()
        if not self.installed() or backend is None:
            raise DoccanoServerError(f"doccano is not installed at {self.venv} — run `newsner doccano install` "
                                     f"(or set {ENV_VENV} to an existing doccano venv)")
        if not os.access(backend, os.W_OK):
            raise DoccanoServerError(f"doccano's venv {self.venv} is not writable, but doccano stores uploads "
                                     f"inside it: set {ENV_VENV} to a writable place and run `newsner doccano "
                                     "install`")
        return backend


    # ------------------------------------------------------------------ database

    def init_database(self, progress: Progress | None = None) -> bool:
        """Create the database and the admin user if missing. Returns True when it had to.

        A migrated, user-less database is kept per doccano version (template_dir) and copied for new workspaces.
        """
        say = progress or (lambda _msg: None)
        backend = self._require_venv()
        self._make_state_dir()
        self.log_dir.mkdir(parents=True, exist_ok=True)
        # gunicorn and celery both run django_drf_filepond's app init, which makes MEDIA_ROOT without exist_ok:
        # started together they race and one dies with FileExistsError. Made here, neither has to.
        (self.state_dir / "media").mkdir(mode=0o700, exist_ok=True)
        self._write_settings()
        had_credentials = self.credentials_path.exists()
        username, password = self.credentials()
        if self.db_path.exists() and had_credentials:
            return False
        log_path = self.log_dir / "init.log"
        template = self.template_dir / f"doccano-{DOCCANO_VERSION}-migrated.sqlite3"
        partial = self.state_dir / "db.sqlite3.partial"
        args = ["--admin", username]
        if self.db_path.exists():  # credentials were lost: give the existing admin a new password
            say("setting a new admin password (credentials.json was missing)")
            target = self.db_path
        else:
            target = partial
            partial.unlink(missing_ok=True)
            if template.exists():
                shutil.copyfile(template, partial)
            else:
                say(f"creating doccano's database (first time for doccano {DOCCANO_VERSION}: ~10 s)")
                args = ["--migrate", "--template", str(partial), str(template), *args]
        with open(log_path, "a", encoding="utf-8") as log:
            log.write(f"--- {dt.datetime.now().isoformat(timespec='seconds')} init {' '.join(args)}\n")
            log.flush()
            result = subprocess.run([str(self.python), "-c", _BOOTSTRAP, *args], input=password + "\n", text=True,
                                    stdout=log, stderr=subprocess.STDOUT, env=self._env(backend, target),
                                    cwd=self.state_dir, timeout=600)
        if result.returncode != 0:
            partial.unlink(missing_ok=True)
            raise DoccanoServerError(f"doccano's database could not be created (exit {result.returncode}); last "
                                     f"lines of {log_path}:\n{_tail(log_path)}")
        if target == partial:
            os.replace(partial, self.db_path)
        return True

    def _write_settings(self) -> None:
        path = self.state_dir / "settings" / f"{SETTINGS_MODULE}.py"
        if not path.exists() or path.read_text() != _SETTINGS:
            atomic_write_text(path, _SETTINGS)

