"""The I/O-free definition of every table operation, shared by the sync and async repositories.

Each method returns an :data:`~nexus_sdk._http.Operation`: a generator that yields requests through
:func:`~nexus_sdk._http.call` and returns typed rows. The repositories in :mod:`._base` only hand
these to a sender, so sync and async behave identically by construction.
"""

from __future__ import annotations

import builtins
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Final, Generic, Protocol, TypeVar

import pydantic
from pydantic import BaseModel

from nexus_sdk import query
from nexus_sdk._http import APIRequest, Operation, call, encode_json
from nexus_sdk._results import RowList
from nexus_sdk._types import uuid_text
from nexus_sdk.errors import APIStatusError, ConflictError, NotFoundError, ValidationError
from nexus_sdk.models._base import CreateModel, list_adapter, request_bodies, validate_rows
from nexus_sdk.models._fields import write_context
from nexus_sdk.settings import NOT_GIVEN, ClientSettings, NotGiven, TimeoutTypes

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_LIST_LIMIT",
    "DEFAULT_PAGE_SIZE",
    "PageCursor",
    "RowId",
    "TableCore",
    "TableSpec",
]

DEFAULT_LIST_LIMIT: Final = 100
"""Rows returned by ``list()`` when no ``limit`` is given."""
DEFAULT_PAGE_SIZE: Final = 500
"""Rows per request in ``iter()``."""
DEFAULT_BATCH_SIZE: Final = 500
"""Rows per request in ``create_many()``."""
_ID_CHUNK: Final = 100
"""Ids per ``id=in.(...)`` lookup, keeping URLs well under common 8 KB limits."""

RowId = uuid.UUID | str
"""A primary key, as a UUID or its text form."""

RowT = TypeVar("RowT", bound=BaseModel)
CreateT = TypeVar("CreateT", bound=BaseModel)
UpdateT = TypeVar("UpdateT", bound=BaseModel)
ModelT = TypeVar("ModelT", bound=BaseModel)

_REPRESENTATION: Final = "return=representation"


class _RequestModel(Protocol):
    def to_request_json(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class TableSpec(Generic[RowT, CreateT, UpdateT]):
    """What a repository needs to know about its table."""

    table: str
    row: type[RowT]
    create: type[CreateT]
    update: type[UpdateT]
    primary_key: str = "id"
    natural_key: tuple[str, ...] = ()
    """Columns of a unique index ``upsert`` resolves conflicts on (empty: no upsert)."""
    token_columns: tuple[str, ...] = ()
    """Columns holding OAuth tokens, stored encrypted (masked in exports unless asked for)."""


def _validation_error(exc: pydantic.ValidationError) -> ValidationError:
    # Pydantic's own message quotes the input, which may be a token: rebuild it without values.
    errors = [
        {"loc": error["loc"], "msg": error["msg"], "type": error["type"]}
        for error in exc.errors(include_input=False, include_url=False)
    ]
    summary = "; ".join(
        f"{'.'.join(str(part) for part in e['loc']) or exc.title}: {e['msg']}" for e in errors
    )
    return ValidationError(f"Invalid {exc.title}: {summary}", errors=errors)


class PageCursor:
    """Where ``iter()`` stands: the last row read, and whether another page may follow.

    A page shorter than asked is not proof of the end: Supabase lets a project lower ``max_rows`` below
    ``page_size``, and then every page is short. So until a page shows how many rows the server really
    returns (a full page), a short page of ``n`` rows is taken as the cap: one more page is read, and
    from then on a page shorter than ``n`` ends the iteration. When nothing caps, that costs one extra
    (empty, indexed) request, and only when the first page was already short.
    """

    __slots__ = ("_confirmed", "_page_rows", "done", "last")

    def __init__(self, page_size: int) -> None:
        self._page_rows = page_size
        self._confirmed = False
        self.last: Any = None
        """The last row read: the next page starts after it (``None``: from the start)."""
        self.done = False
        """No page follows."""

    def advance(self, rows: Sequence[Any]) -> None:
        """Account for a page just read."""
        if not rows:
            self.done = True
            return
        self.last = rows[-1]
        if len(rows) >= self._page_rows:
            self._confirmed = True
        elif self._confirmed:
            self.done = True
        else:
            self._page_rows = len(rows)
            self._confirmed = True


class TableCore(Generic[RowT, CreateT, UpdateT]):
    """The operations on one table, for one client configuration."""

    encrypted_columns: ClassVar[tuple[str, ...]] = ()
    """Columns the subclass encrypts on write and decrypts on read."""

    def __init__(
        self,
        spec: TableSpec[RowT, CreateT, UpdateT],
        settings: ClientSettings,
        keys: Callable[[], Any] | None = None,
    ) -> None:
        self.spec = spec
        self.settings = settings
        self.keys = keys
        """Returns the client's :class:`~nexus_sdk.crypto.KeyRing`, loading it on first use."""
        self.path = f"/{spec.table}"

    # --- hooks ---------------------------------------------------------------------------------

    def encode_row(self, body: dict[str, Any]) -> dict[str, Any]:
        """Transform a create/upsert body before sending (encryption happens here in subclasses)."""
        return body

    def prepare_update(
        self, row_id: str, body: dict[str, Any]
    ) -> tuple[builtins.list[tuple[str, str]], dict[str, Any]]:
        """The filters and the body of the PATCH changing row ``row_id`` (subclasses encrypt here)."""
        return [self._by_id(row_id)], body

    def decode_rows(self, content: bytes) -> builtins.list[RowT]:
        """Parse a JSON array of rows into Row models (decryption happens here in subclasses)."""
        if not content:
            return []
        return validate_rows(self.spec.row, content)

    # --- helpers -------------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        params: Iterable[tuple[str, str]] = (),
        *,
        headers: Mapping[str, str] | None = None,
        body: Any = None,
        content: bytes | None = None,
        retry_safe: bool,
        timeout: TimeoutTypes | NotGiven,
    ) -> APIRequest:
        return APIRequest(
            method,
            self.path,
            tuple(params),
            dict(headers or {}),
            body,
            retry_safe=retry_safe,
            timeout=timeout,
            content=content,
        )

    def _by_id(self, row_id: RowId) -> tuple[str, str]:
        return (self.spec.primary_key, f"eq.{uuid_text('id', row_id)}")

    def _build(self, model: type[BaseModel], data: Any, fields: Mapping[str, Any]) -> Any:
        if data is not None and fields:
            raise ValidationError(f"Pass either a {model.__name__} or keyword fields, not both.")
        if data is None:
            try:
                return model.model_validate(dict(fields))
            except pydantic.ValidationError as exc:
                raise _validation_error(exc) from None  # pydantic's text may quote a token
        if isinstance(data, model):
            return data
        if isinstance(data, Mapping):
            try:
                return model.model_validate(dict(data))
            except pydantic.ValidationError as exc:
                raise _validation_error(exc) from None  # pydantic's text may quote a token
        raise ValidationError(f"Expected a {model.__name__} or a mapping, got {type(data).__name__}.")

    def _raw_create_body(self, data: Any, fields: Mapping[str, Any]) -> dict[str, Any]:
        model: _RequestModel = self._build(self.spec.create, data, fields)
        return self._complete_body(dict(model.to_request_json()))

    def _raw_create_bodies(self, items: Sequence[Any]) -> builtins.list[dict[str, Any] | ValidationError]:
        """The create body of each item, or the error that makes it invalid: what ``_raw_create_body`` gives.

        The common case, a run of valid mappings, costs one pydantic validation and one dump for the
        whole run instead of one of each per row. When the run fails, each item is validated alone, so
        every error still names its own item (an import reports it by line).
        """
        create = self.spec.create
        batched = (
            len(items) > 1
            # A model overriding to_request_json builds its body its own way: honour it row by row.
            and getattr(create, "to_request_json", None) is CreateModel.to_request_json
            and all(isinstance(item, Mapping) for item in items)
        )
        if batched:
            adapter = list_adapter(create)
            try:
                # Validation never changes its input: only mappings other than dicts need a copy.
                data = [item if type(item) is dict else dict(item) for item in items]
                models = adapter.validate_python(data, context=write_context(None))
            except pydantic.ValidationError:
                pass  # some item is invalid: find which, below
            else:
                return [self._try_complete(body) for body in request_bodies(models)]
        results: builtins.list[dict[str, Any] | ValidationError] = []
        for item in items:
            try:
                results.append(self._raw_create_body(item, {}))
            except ValidationError as exc:
                results.append(exc)
        return results

    def _try_complete(self, body: dict[str, Any]) -> dict[str, Any] | ValidationError:
        try:
            return self._complete_body(body)
        except ValidationError as exc:
            return exc

    def _complete_body(self, body: dict[str, Any]) -> dict[str, Any]:
        """Fill in what a create body may leave to us: a client-made id and the acting user's id."""
        pk = self.spec.primary_key
        if body.get(pk) is None:
            # The id is ours, made before sending, so a retried insert is recognisably the same row.
            body[pk] = str(uuid.uuid4())
        if "user_id" in self.spec.create.model_fields and body.get("user_id") is None:
            user_id = self.settings.user_id
            if user_id is None:
                message = "user_id is required unless the client acts as a user (as_user / access_token)."
                raise ValidationError.at("user_id", message, "missing")
            body["user_id"] = user_id
        return body

    def _create_body(self, data: Any, fields: Mapping[str, Any]) -> tuple[dict[str, Any], str]:
        body = self._raw_create_body(data, fields)
        row_id = str(body[self.spec.primary_key])
        return self.encode_row(body), row_id

    def _select_rows(self, params: Iterable[tuple[str, str]], timeout: TimeoutTypes | NotGiven) -> APIRequest:
        return self._request("GET", params, retry_safe=True, timeout=timeout)

    def _fetch_ids(
        self, ids: Sequence[str], timeout: TimeoutTypes | NotGiven
    ) -> Operation[builtins.list[RowT]]:
        rows: builtins.list[RowT] = []
        for start in range(0, len(ids), _ID_CHUNK):
            chunk = ids[start : start + _ID_CHUNK]
            params = [(self.spec.primary_key, "in.(" + ",".join(chunk) + ")")]
            response = yield from call(self._select_rows(params, timeout), self.settings)
            rows.extend(self.decode_rows(response.content))
        return rows

    # --- operations ----------------------------------------------------------------------------

    def get(self, row_id: RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Operation[RowT]:
        """One row by primary key; a missing (or invisible) row is a NotFoundError."""
        content = yield from self._get_one(row_id, (), timeout)
        return self.decode_rows(b"[" + content + b"]")[0]

    def get_embedded(
        self,
        model: type[ModelT],
        select: str,
        row_id: RowId,
        *,
        embedded: Sequence[tuple[str, str]] = (),
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Operation[ModelT]:
        """One row by primary key with the related rows ``select`` embeds (``embedded``: their options,
        e.g. ``("posts.order", "created_at")``), as ``model``."""
        content = yield from self._get_one(row_id, [("select", select), *embedded], timeout)
        return validate_rows(model, b"[" + content + b"]")[0]

    def _get_one(
        self, row_id: RowId, params: Iterable[tuple[str, str]], timeout: TimeoutTypes | NotGiven
    ) -> Operation[bytes]:
        row_text = uuid_text("id", row_id)
        request = self._request(
            "GET",
            [*params, self._by_id(row_text)],
            # PostgREST answers 406 PGRST116 when no row matches; errors.py maps that to NotFoundError.
            headers={"Accept": "application/vnd.pgrst.object+json"},
            retry_safe=True,
            timeout=timeout,
        )
        try:
            response = yield from call(request, self.settings)
        except NotFoundError as exc:
            if exc.code != "PGRST116":
                raise  # not "no row" (e.g. the table itself is missing): the server's words stand
            # PostgREST's message names neither the table nor the id: say which row was asked for.
            raise NotFoundError.row(self.spec.table, row_text, cause=exc) from exc
        return response.content

    def _list_params(
        self,
        where: query.WhereClause,
        order_by: str | Sequence[str] | None,
        limit: int,
        offset: int | None,
    ) -> builtins.list[tuple[str, str]]:
        query.row_count("limit", limit)
        params = query.compile_where(self.spec.row, where)
        params += query.compile_order(query.parse_order(self.spec.row, order_by))
        params.append(("limit", str(limit)))
        if offset:
            params.append(("offset", str(offset)))
        return params

    def list(
        self,
        *,
        where: query.WhereClause = None,
        order_by: str | Sequence[str] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Operation[RowList[RowT]]:
        """At most ``limit`` (<= 1000) rows matching ``where``, in ``order_by`` order."""
        params = self._list_params(where, order_by, limit, offset)
        response = yield from call(self._select_rows(params, timeout), self.settings)
        return RowList(self.decode_rows(response.content), self.spec.row)

    def list_embedded(
        self,
        model: type[ModelT],
        select: str,
        *,
        where: query.WhereClause = None,
        order_by: str | Sequence[str] | None = None,
        limit: int = DEFAULT_LIST_LIMIT,
        offset: int | None = None,
        embedded: Sequence[tuple[str, str]] = (),
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Operation[RowList[ModelT]]:
        """Like :meth:`list`, with the related rows ``select`` embeds (``embedded``: their options), in one
        request, as ``model``."""
        params = [("select", select), *embedded, *self._list_params(where, order_by, limit, offset)]
        response = yield from call(self._select_rows(params, timeout), self.settings)
        rows = validate_rows(model, response.content) if response.content else []
        return RowList(rows, model)

    def plan_pages(
        self, *, where: query.WhereClause, order_by: str | None, page_size: int
    ) -> Callable[[RowT | None, TimeoutTypes | NotGiven], Operation[builtins.list[RowT]]]:
        """Validate an ``iter()`` request up front and return the function fetching each page.

        The page after ``last`` is selected with a keyset filter on ``(order column, primary key)``,
        so every page costs the same however deep it is (no ``offset``).
        """
        query.row_count("page_size", page_size)
        if order_by is not None and not isinstance(order_by, str):
            raise ValidationError.at("order_by", "iter() orders by one column (the primary key breaks ties).")
        base = query.compile_where(self.spec.row, where)
        pk = self.spec.primary_key
        terms = query.parse_order(self.spec.row, order_by or pk)
        term = terms[0]
        order = [query.OrderTerm(term.column, term.descending)]
        if term.column != pk:
            order.append(query.OrderTerm(pk, term.descending))
        order_params = query.compile_order(order, nulls_last=True)

        def page(last: RowT | None, timeout: TimeoutTypes | NotGiven) -> Operation[builtins.list[RowT]]:
            params = list(base)
            if last is not None:
                params += query.keyset_filter(
                    self.spec.row, term, pk, getattr(last, term.column), getattr(last, pk)
                )
            params += [*order_params, ("limit", str(page_size))]
            response = yield from call(self._select_rows(params, timeout), self.settings)
            return self.decode_rows(response.content)

        return page

    def count(
        self, *, where: query.WhereClause = None, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> Operation[int]:
        """The number of rows matching ``where`` (``HEAD`` with ``Prefer: count=exact``)."""
        request = self._request(
            "HEAD",
            query.compile_where(self.spec.row, where),
            headers={"Prefer": "count=exact"},
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.settings)
        content_range = response.headers.get("content-range", "")
        total = content_range.rpartition("/")[2]
        if not total.isdigit():
            raise APIStatusError(
                f"The server sent no row count (Content-Range: {content_range!r}).",
                status_code=response.status_code,
            )
        return int(total)

    def create(
        self, data: Any, fields: Mapping[str, Any], *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> Operation[RowT]:
        """Insert one row, safely retried: a repeat of the same id inserts nothing.

        ``on_conflict=<pk>`` with ``resolution=ignore-duplicates`` makes a retried insert a no-op, but
        a no-op returns no row; then the row is read back by id. So a lost response, or a caller who
        repeats ``create`` with the same Create model, gets the stored row rather than a duplicate.
        An id that exists but is not visible to the caller is a ConflictError.
        """
        body, row_id = self._create_body(data, fields)
        # From here on only the encoded body (tokens encrypted) is needed: no token in clear stays in this
        # frame's locals, which crash reporters collect with an error raised below.
        del data, fields
        request = self._request(
            "POST",
            [("on_conflict", self.spec.primary_key)],
            headers={"Prefer": f"{_REPRESENTATION},resolution=ignore-duplicates"},
            body=body,
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.settings)
        rows = self.decode_rows(response.content)
        if rows:
            return rows[0]
        found = yield from self._fetch_ids([row_id], timeout)
        if found:
            return found[0]
        raise ConflictError(
            f"A {self.spec.table} row with id {row_id} already exists.", status_code=409, code="23505"
        )

    def create_many(
        self,
        items: Iterable[Any],
        *,
        batch_size: int = DEFAULT_BATCH_SIZE,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Operation[RowList[RowT]]:
        """Insert rows in batches (one request each); the rows come back in input order.

        Every item is validated before the first request. Batches use the same retry-safe insert as
        :meth:`create`; rows a batch did not return (inserted by an earlier attempt) are read back.
        """
        query.row_count("batch_size", batch_size)
        bodies: builtins.list[tuple[dict[str, Any], str]] = []
        for body in self._raw_create_bodies(builtins.list(items)):
            if isinstance(body, ValidationError):
                raise body
            bodies.append((self.encode_row(body), str(body[self.spec.primary_key])))
        # Only the encoded bodies are needed from here on: see create().
        del items
        if bodies:
            del body
        created: dict[str, RowT] = {}
        pk = self.spec.primary_key
        for start in range(0, len(bodies), batch_size):
            batch = bodies[start : start + batch_size]
            # Rows may set different optional columns: name them all and let the rest take defaults.
            columns = sorted({name for body, _ in batch for name in body})
            request = self._request(
                "POST",
                [("columns", ",".join(columns)), ("on_conflict", pk)],
                headers={"Prefer": f"{_REPRESENTATION},resolution=ignore-duplicates,missing=default"},
                # Encoded once for the batch, in Rust (json.dumps cost several times more per row).
                content=encode_json([body for body, _ in batch]),
                retry_safe=True,
                timeout=timeout,
            )
            response = yield from call(request, self.settings)
            for row in self.decode_rows(response.content):
                created[str(getattr(row, pk))] = row
            missing = [row_id for _, row_id in batch if row_id not in created]
            if missing:
                for row in (yield from self._fetch_ids(missing, timeout)):
                    created[str(getattr(row, pk))] = row
        absent = [row_id for _, row_id in bodies if row_id not in created]
        if absent:
            raise ConflictError(
                f"{len(absent)} {self.spec.table} id(s) already exist, e.g. {absent[0]}.",
                status_code=409,
                code="23505",
            )
        return RowList([created[row_id] for _, row_id in bodies], self.spec.row)

    def update(
        self,
        row_id: RowId,
        patch: Any,
        fields: Mapping[str, Any],
        *,
        timeout: TimeoutTypes | NotGiven = NOT_GIVEN,
    ) -> Operation[RowT]:
        """Change the given columns of one row (PATCH by id, idempotent, so retried)."""
        model: _RequestModel = self._build(self.spec.update, patch, fields)
        row_text = uuid_text("id", row_id)
        body = dict(model.to_request_json())
        if not body:
            raise ValidationError("Nothing to update: no field was set.")
        params, body = self.prepare_update(row_text, body)
        return (yield from self.patch_one(params, body, timeout, missing=self._not_found(row_text)))

    def patch_one(
        self,
        params: Iterable[tuple[str, str]],
        body: dict[str, Any],
        timeout: TimeoutTypes | NotGiven,
        *,
        missing: NotFoundError,
    ) -> Operation[RowT]:
        """PATCH the row the filters ``params`` select (idempotent, so retried); no row raises ``missing``."""
        request = self._request(
            "PATCH",
            params,
            headers={"Prefer": _REPRESENTATION},
            body=body,
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.settings)
        rows = self.decode_rows(response.content)
        if not rows:
            raise missing
        return rows[0]

    def delete(self, row_id: RowId, *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN) -> Operation[None]:
        """Delete one row by id; NotFoundError when no visible row has it."""
        row_text = uuid_text("id", row_id)
        request = self._request(
            "DELETE",
            [self._by_id(row_text), ("select", self.spec.primary_key)],
            headers={"Prefer": _REPRESENTATION},
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.settings)
        # After a retry, an empty answer means an earlier attempt already deleted the row.
        if not response.json() and response.attempts == 1:
            raise self._not_found(row_text)

    def upsert(
        self, data: Any, fields: Mapping[str, Any], *, timeout: TimeoutTypes | NotGiven = NOT_GIVEN
    ) -> Operation[RowT]:
        """Insert, or update the row with the same natural key: one ``POST`` with ``merge-duplicates``.

        The body never carries the primary key: on a conflict PostgREST sets every column of the body,
        and the existing row must keep its id (other rows reference it). A client acting as a user
        leaves ``user_id`` out too: the column defaults to ``auth.uid()``, and ``authenticated`` may not
        UPDATE it. The service role must send it (there is no ``auth.uid()``). Retrying is safe: the
        same body on the same natural key converges to the same row.
        """
        key = self.spec.natural_key
        if not key:
            raise ValidationError(f"{self.spec.table} has no natural key to upsert on.")
        model = self._build(self.spec.create, data, fields)
        pk = self.spec.primary_key
        if pk in model.model_fields_set:
            message = (
                f"upsert() finds the {self.spec.table} row by ({', '.join(key)}) and keeps its {pk}; "
                f"it cannot set {pk} (use create() to choose one)."
            )
            raise ValidationError.at(pk, message, "forbidden")
        del data, fields  # the model keeps tokens as SecretStr; see create()
        body = self._raw_create_body(model, {})
        acting_user = self.settings.user_id if self.settings.access_token is not None else None
        if acting_user is not None and uuid_text("user_id", body["user_id"]) != uuid_text(
            "user_id", acting_user
        ):
            message = "A user can only upsert rows of their own: leave user_id out."
            raise ValidationError.at("user_id", message, "forbidden")
        body = self.encode_row(body)
        body.pop(pk, None)
        if acting_user is not None:
            body.pop("user_id", None)
        request = self._request(
            "POST",
            [("on_conflict", ",".join(key))],
            headers={"Prefer": f"{_REPRESENTATION},resolution=merge-duplicates"},
            body=body,
            retry_safe=True,
            timeout=timeout,
        )
        response = yield from call(request, self.settings)
        return self.decode_rows(response.content)[0]

    def _not_found(self, row_id: str) -> NotFoundError:
        return NotFoundError.row(self.spec.table, row_id)
