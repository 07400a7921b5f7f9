"""The consent endpoint's request bodies: a form or a JSON object, read once.

Forms are read by Werkzeug's parser, JSON by :mod:`json` with a repeated key
refused as a repeated form field is; both bounded by :data:`MAX_BODY`.
"""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import parse_qsl

from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.formparser import FormDataParser
from werkzeug.http import parse_options_header

__all__ = ["MAX_BODY", "BadRequest", "query_pairs", "read_fields"]

#: The largest consent request body read, in bytes; a choice of categories is a few hundred.
MAX_BODY = 16 * 1024


class BadRequest(Exception):
    """A request the endpoint refuses; the message is shown to the client."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def read_fields(
    body: bytes, content_type: str, query_string: str, *, too_large: bool = False
) -> tuple[MultiDict[str, Any], bool]:
    """The posted fields, and whether they came as JSON.

    A form (urlencoded or multipart, read by Werkzeug's parser) or a JSON object;
    with no body, the query string. ``too_large`` says the body was cut at
    :data:`MAX_BODY`. Raises :class:`BadRequest` for anything else.
    """
    if too_large or len(body) > MAX_BODY:
        raise BadRequest(413, f"the request body is over {MAX_BODY} bytes")
    mimetype, options = parse_options_header(content_type)
    if mimetype == "application/json" or mimetype.endswith("+json"):
        try:
            data = json.loads(body, object_pairs_hook=_json_object)
        except (ValueError, RecursionError):
            raise BadRequest(400, "the request body is not valid JSON") from None
        if not isinstance(data, dict):
            raise BadRequest(400, "the JSON body must be an object")
        fields: MultiDict[str, Any] = MultiDict()
        for key, value in data.items():
            if key in ("categories", "services"):
                if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                    raise BadRequest(400, f"{key} must be a list of {key[:-1]} names")
                fields.setlist(key, value)
            elif isinstance(value, str):
                fields[key] = value
            elif key in ("action", "next", "service"):
                raise BadRequest(400, f"{key} must be a string")
        return fields, True
    if mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        parser = FormDataParser(max_form_memory_size=MAX_BODY, max_form_parts=100)
        try:
            _, form, files = parser.parse(io.BytesIO(body), mimetype, len(body), options)
        except HTTPException as refused:  # too many parts, say
            raise BadRequest(refused.code or 400, "the form is too large") from None
        for upload in files.values():  # a consent form has no file fields
            upload.close()
        return form, False
    if not body:
        return MultiDict(query_pairs(query_string)), False
    raise BadRequest(415, f"unsupported content type {mimetype!r}; send a form or JSON")


def _json_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object, refusing a repeated key as a form refuses a repeated field."""
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            raise BadRequest(400, f"{key} is given more than once")
        data[key] = value
    return data


def query_pairs(query_string: str) -> list[tuple[str, str]]:
    """The pairs of a query string, blank values kept."""
    return parse_qsl(query_string, keep_blank_values=True)
