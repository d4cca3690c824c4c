"""Relation types and relations of doccano's REST API (projects with `use_relation: true`), mixed into
`DoccanoClient`."""

from __future__ import annotations

from typing import Any

from newsner.doccano.client_http import DoccanoHTTP


class RelationsMixin(DoccanoHTTP):
    """Relation types (per project) and relations (per example, in the requesting user's layer)."""

    def list_relation_types(self, project_id: int) -> list[dict[str, Any]]:
        return list(self._paginate(f"/v1/projects/{int(project_id)}/relation-types", limit=1000))

    def create_relation_type(self, project_id: int, *, text: str, background_color: str,
                             text_color: str = "#ffffff") -> dict[str, Any]:
        """Create a relation type (the project needs `use_relation: true` for annotators to see it)."""
        body = {"text": text, "background_color": background_color, "text_color": text_color}
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/relation-types", json=body))

    def update_relation_type(self, project_id: int, type_id: int, **fields: Any) -> dict[str, Any]:
        return dict(self._request("PATCH", f"/v1/projects/{int(project_id)}/relation-types/{int(type_id)}",
                                  json=fields))

    def list_relations(self, project_id: int, example_id: int) -> list[dict[str, Any]]:
        """This user's relations on one example: [{id, from_id, to_id, type}] between span ids."""
        body = self._get_json(f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/relations")
        return list(body["results"] if isinstance(body, dict) else body)

    def create_relation(self, project_id: int, example_id: int, *, from_id: int, to_id: int,
                        type_id: int) -> dict[str, Any]:
        """A relation between two spans (ids) of this example, of relation type `type_id`."""
        return dict(self._request("POST", f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/relations",
                                  json={"from_id": int(from_id), "to_id": int(to_id), "type": int(type_id)}))

    def delete_relation(self, project_id: int, example_id: int, relation_id: int) -> None:
        self._request("DELETE",
                      f"/v1/projects/{int(project_id)}/examples/{int(example_id)}/relations/{int(relation_id)}")
