"""A small typed HTTP client for the ~25 doccano 1.8 REST endpoints newsner needs (HTTP only, no domain rules).

Why not doccano-client: it pins pydantic<2 and urllib3<2, lists 5 items a page and polls tasks once a second
(DESIGN.md). The client is split by responsibility:

    client_http.DoccanoHTTP        the session: token auth without cookies, retries, errors, pagination
    client_files.FilesMixin        file import / export through doccano's celery tasks, health
    client_relations.RelationsMixin relation types and relations
    client.DoccanoClient           projects, span types, examples, spans, users and members, auto-labeling
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from newsner.doccano import models
from newsner.doccano.client_files import FilesMixin
from newsner.doccano.client_relations import RelationsMixin
from newsner.errors import DoccanoAPIError, DoccanoError

__all__ = ["DoccanoClient"]

#: Ids per DELETE: SQLite caps the number of bound variables in `pk IN (...)`.
_DELETE_CHUNK = 500


class DoccanoClient(RelationsMixin, FilesMixin):
    """One doccano server, one authenticated user: projects, span types, examples, spans, members, auto-labeling.

    The constructor and ``login()`` are `DoccanoHTTP`'s (client_http), which documents their arguments.
    """

    _role_ids: dict[str, int] | None = None

    # ------------------------------------------------------------------ projects

    def list_projects(self) -> list[dict[str, Any]]:
        """Every project this user is a member of."""
        return list(self._paginate("/v1/projects", limit=100))

    def find_project(self, name: str) -> dict[str, Any] | None:
        """The project called exactly `name`, or None.

        Raises:
            DoccanoError: more than one project has that name (doccano allows it; newsner cannot choose).
        """
        found = [p for p in self._paginate("/v1/projects", limit=100, params={"q": name}) if p.get("name") == name]
        if len(found) > 1:
            ids = ", ".join(str(p["id"]) for p in found)
            raise DoccanoError(f"{len(found)} doccano projects are named {name!r} (ids {ids}): rename or delete all "
                               "but one in doccano, or pass another --project name")
        return found[0] if found else None

    def get_project(self, project_id: int) -> dict[str, Any]:
        return dict(self._get_json(f"/v1/projects/{int(project_id)}"))

    def create_project(self, name: str, *, description: str, guideline: str = "", collaborative: bool = False,
                       allow_overlapping: bool = False, use_relation: bool = False) -> dict[str, Any]:
        """Create a sequence-labeling (span) project; doccano requires a non-blank description.

        `use_relation` lets annotators draw relations between spans; the export then carries
        `entities`/`relations` instead of `label` (readers of the export must expect both: `doccano pull` does).
        """
        if not name.strip():
            raise DoccanoError("a doccano project needs a non-blank name")
        if not description.strip():
            raise DoccanoError(f"doccano requires a non-blank description for project {name!r}")
        body = {
            "name": name, "description": description, "guideline": guideline,
            "project_type": models.PROJECT_TYPE, "resourcetype": models.RESOURCE_TYPE,
            "collaborative_annotation": collaborative, "allow_overlapping": allow_overlapping,
            "random_order": False, "grapheme_mode": False, "use_relation": use_relation,
        }
        return dict(self._request("POST", "/v1/projects", json=body))

    def update_project(self, project_id: int, **fields: Any) -> dict[str, Any]:
        """Change some project fields (name, description, guideline, collaborative_annotation, ...)."""
        # The polymorphic serializer needs the discriminator even on a partial update.
        body = {"resourcetype": models.RESOURCE_TYPE, **fields}
        return dict(self._request("PATCH", f"/v1/projects/{int(project_id)}", json=body))

    def delete_project(self, project_id: int) -> None:
        self._request("DELETE", f"/v1/projects/{int(project_id)}")

    # ------------------------------------------------------------------ span types

    def list_span_types(self, project_id: int) -> list[dict[str, Any]]:
        return list(self._paginate(f"/v1/projects/{int(project_id)}/span-types", limit=1000))

    def create_span_type(self, project_id: int, *, text: str, background_color: str, text_color: str = "#ffffff",
                         suffix_key: str | None = None) -> dict[str, Any]:
        """Create a label. A name that exists already is refused (doccano itself answers that with a 500)."""
        body = {"text": text, "background_color": background_color, "text_color": text_color,
                "suffix_key": suffix_key, "prefix_key": None}
        try:
            return dict(self._request("POST", f"/v1/projects/{int(project_id)}/span-types", json=body))
        except DoccanoAPIError as exc:
            if exc.status == 500:
                raise DoccanoAPIError(
                    f"doccano could not create span type {text!r} in project {project_id} (HTTP 500): a span type "
                    "with that name most likely exists already (doccano answers a duplicate name with a server "
                    "error) — update the existing one instead", status=500, url=exc.url, body=exc.body) from None
            raise

    def update_span_type(self, project_id: int, span_type_id: int, **fields: Any) -> dict[str, Any]:
        return dict(self._request("PATCH", f"/v1/projects/{int(project_id)}/span-types/{int(span_type_id)}",
                                  json=fields))

    # ------------------------------------------------------------------ examples

    def iter_examples(self, project_id: int, *, limit: int = 1000, **filters: Any) -> Iterator[dict[str, Any]]:
        """Yield every example, `limit` a page (doccano's default page is 5).

        Filters: q (text search), confirmed (bool: confirmed by this user), label (a label name).
        """
        params = {k: (str(v).lower() if isinstance(v, bool) else v) for k, v in filters.items() if v is not None}
        yield from self._paginate(f"/v1/projects/{int(project_id)}/examples", limit=max(1, limit), params=params)

    def count_examples(self, project_id: int) -> int:
        page = self._get_json(f"/v1/projects/{int(project_id)}/examples", limit=1, offset=0)
        return int(page["count"])

    def get_example(self, project_id: int, example_id: int) -> dict[str, Any]:
        return dict(self._get_json(f"/v1/projects/{int(project_id)}/examples/{int(example_id)}"))

    def create_example(self, project_id: int, text: str, meta: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/examples",
                                  json={"text": text, "meta": meta or {}}))

    def delete_examples(self, project_id: int, ids: list[int]) -> None:
        """Delete these examples.

        Raises:
            DoccanoError: `ids` is empty — doccano deletes EVERY example of the project for an empty list, so an
                empty list is refused here rather than passed on.
        """
        ids = [int(i) for i in ids]
        if not ids:
            raise DoccanoError(f"refusing to delete with an empty id list: doccano would delete every example of "
                               f"project {project_id}")
        for start in range(0, len(ids), _DELETE_CHUNK):
            self._request("DELETE", f"/v1/projects/{int(project_id)}/examples",
                          json={"ids": ids[start:start + _DELETE_CHUNK]})

    def confirm_example(self, project_id: int, example_id: int) -> None:
        """Mark the example as confirmed by this user; a no-op if it already is (doccano's endpoint toggles)."""
        if not self.get_example(project_id, example_id).get("is_confirmed"):
            self._request("POST", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/states", json={})

    # ------------------------------------------------------------------ spans

    def list_spans(self, project_id: int, example_id: int) -> list[dict[str, Any]]:
        """This user's spans on one example (all users' in a collaborative project)."""
        body = self._get_json(f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/spans")
        return list(body["results"] if isinstance(body, dict) else body)

    def create_span(self, project_id: int, example_id: int, *, start: int, end: int, label_id: int) -> dict[str, Any]:
        """Add a span; doccano checks start < end and overlaps, NOT that end fits the text (callers must)."""
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/spans",
                                  json={"start_offset": int(start), "end_offset": int(end), "label": int(label_id)}))

    def delete_span(self, project_id: int, example_id: int, span_id: int) -> None:
        self._request("DELETE", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/spans/{int(span_id)}")

    # ------------------------------------------------------------------ users, roles, members

    def create_user(self, username: str, password: str) -> dict[str, Any]:
        """Create a (non-admin) user; doccano applies Django's password rules and says which one failed."""
        return dict(self._request("POST", "/v1/users/create",
                                  json={"username": username, "password1": password, "password2": password}))

    def find_user(self, username: str) -> dict[str, Any] | None:
        users = self._get_json("/v1/users", q=username)
        return next((u for u in users if u.get("username") == username), None)

    def me(self) -> dict[str, Any]:
        """The logged-in user."""
        return dict(self._get_json("/v1/me"))

    def list_roles(self) -> list[dict[str, Any]]:
        return list(self._get_json("/v1/roles"))

    def add_member(self, project_id: int, user_id: int, role: str) -> dict[str, Any]:
        """Give a user a role in a project: project_admin, annotator or annotation_approver."""
        if self._role_ids is None or role not in self._role_ids:
            self._role_ids = {r["name"]: int(r["id"]) for r in self.list_roles()}
        if role not in self._role_ids:
            raise DoccanoError(f"unknown doccano role {role!r}: use one of {', '.join(sorted(self._role_ids))}")
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/members",
                                  json={"user": int(user_id), "role": self._role_ids[role]}))

    def list_members(self, project_id: int) -> list[dict[str, Any]]:
        return list(self._get_json(f"/v1/projects/{int(project_id)}/members"))

    # ------------------------------------------------------------------ auto-labeling (model in the loop)

    def list_auto_labeling_configs(self, project_id: int) -> list[dict[str, Any]]:
        """The project's auto-labeling configs: {id, model_name, model_attrs, template, label_mapping, task_type}."""
        return list(self._request("GET", f"/v1/projects/{int(project_id)}/auto-labeling/configs") or [])

    def create_auto_labeling_config(self, project_id: int, config: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/auto-labeling/configs",
                                  json=dict(config)))

    def update_auto_labeling_config(self, project_id: int, config_id: int,
                                    config: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self._request("PUT", f"/v1/projects/{int(project_id)}/auto-labeling/configs/{int(config_id)}",
                                  json=dict(config)))

    def delete_auto_labeling_config(self, project_id: int, config_id: int) -> None:
        self._request("DELETE", f"/v1/projects/{int(project_id)}/auto-labeling/configs/{int(config_id)}")

    def auto_label(self, project_id: int, example_id: int) -> None:
        """Run every auto-labeling config of the project on one example, as doccano's editor does when this user
        has auto-labeling switched on and opens the example: the suggested spans land in this user's layer."""
        self._request("POST", f"/v1/projects/{int(project_id)}/auto-labeling",
                      params={"example": int(example_id)}, json={})
