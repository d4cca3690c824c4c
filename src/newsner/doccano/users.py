"""Doccano users and project membership (`newsner doccano add-user`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from newsner.errors import DoccanoError, InputError
from newsner.workspace import Workspace

if TYPE_CHECKING:
    from newsner.doccano.client import DoccanoClient

from newsner.doccano.sync_common import UserReport, _server_of, default_project

# ============================================================================================= users
ROLES = ("annotator", "annotation_approver", "project_admin")


def add_user(
    workspace: Workspace,
    username: str,
    password: Callable[[], str],
    *,
    role: str = "annotator",
    project: str | None = None,
    client: DoccanoClient | None = None,
) -> UserReport:
    """Create a doccano user when missing and make them a member of the project with `role`.

    `password` is called only when the user has to be created; the password is never stored or logged, and an
    existing user's password is left unchanged.
    """
    username = username.strip()
    if not username:
        raise InputError("the user name must not be empty")
    project = project or default_project()
    owns = client is None
    if client is None:
        from newsner.doccano.config import connect

        client = connect(workspace)
    try:
        roles = {str(r["name"]): int(r["id"]) for r in client.list_roles()}
        if role not in roles:
            raise InputError(f"unknown role {role!r}; doccano's roles are {', '.join(sorted(roles))}")
        report = UserReport(username=username, project=project, role=role)
        found = client.find_project(project)
        if found is None:
            raise DoccanoError(f"no project {project!r} on {_server_of(client)}; run `newsner doccano push "
                               f"--project {project}` first (or check --project)")
        user = client.find_user(username)
        if user is None:
            secret = password()
            if not secret:
                raise InputError(f"a password is needed to create {username!r} "
                                 "(set NEWSNER_NEW_USER_PASSWORD or type it at the prompt)")
            user = client.create_user(username, secret)
            report.created = True
        project_id = int(found["id"])
        for member in client.list_members(project_id):
            if member.get("username") == username or member.get("user") == user.get("id"):
                report.existing_role = str(member.get("rolename") or "")
                return report
        client.add_member(project_id, int(user["id"]), role)
        report.member_added = True
        return report
    finally:
        if owns:
            client.close()
