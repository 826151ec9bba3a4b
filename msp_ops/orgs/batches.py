"""Batches of organization-owned rows: per-item errors as data, and the one idempotent upsert.

Every write of rows that clients push (time entries, interruptions, tickets) goes through
``save_batch``: it checks each item's own fields, matches items to stored rows by ``pk``
(an edit) or ``external_id`` (a replay), lets the app's rules look at the whole batch, and
writes in a bounded number of statements, whatever the batch size:

- one query reads the stored rows the batch's ``external_id``\\ s name (and one the edited
  ``pk``\\ s); the app's rules add their own few (members, categories, overlaps);
- one ``UPDATE`` for edits, one ``INSERT ... ON CONFLICT (organization, external_id) DO
  UPDATE`` for items with an ``external_id``, one ``INSERT`` for the rest (per 500 items;
  each column one array parameter).

A refused batch raises ``BatchValidationError`` and stores nothing. A write that loses a
race to a concurrent request (a constraint refuses it, or PostgreSQL breaks a deadlock) is
checked again against what that request committed and tried again, in a savepoint: the
caller may hold a transaction of its own (SPEC 4's atomic batch; a CSV import; the timer).
On PostgreSQL the first attempt leaves to the database what a constraint enforces anyway
(no overlapping entries), and a batch written in one statement that locks no row runs in
no transaction of its own: a single new entry is one ``INSERT``.
Two concurrent replays of one new ``external_id`` store one row; exactly one of them
reports it created (PostgreSQL tells which statement inserted the row).

Transaction rule (every service): a service is atomic by itself and may run inside the
caller's transaction; a caller wraps services in ``transaction.atomic`` only to make several
of them one unit of work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import nullcontext
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, OperationalError, connection, models, transaction
from django.utils import timezone

from msp_ops.orgs.models import Membership, Organization

M = TypeVar("M", bound=models.Model)

STATEMENT_SIZE = 500  # items per INSERT/UPDATE statement
WRITE_ATTEMPTS = 3  # a write that lost a race is checked in full and tried again this often in all
DEADLOCK_DETECTED = "40P01"  # PostgreSQL SQLSTATE


# --- per-item errors ----------------------------------------------------------------------


class ItemMessage(str):
    """One error of one batch item, as data: a template, its values and the item it refers to.

    ``{other}`` in the template names another item of the batch (``other``, an index from
    0) and ``{batch}`` the batch itself; each layer words them in its own terms: the API
    "item 3" of "this batch" (the text of the string itself), the CSV import "row 7" of
    "this file" (``worded``). ``values`` fill the template's other fields (client text:
    never read as a template itself).
    """

    template: str
    other: int | None
    values: dict[str, Any]

    def __new__(cls, template: str, *, other: int | None = None, **values: Any) -> ItemMessage:
        message = super().__new__(cls, _fill(template, other, values, api_item_name, "this batch"))
        message.template, message.other, message.values = template, other, values
        return message

    @classmethod
    def plain(cls, text: str) -> ItemMessage:
        """A message that refers to nothing (e.g. from a model's ``full_clean``)."""
        return text if isinstance(text, ItemMessage) else cls("{text}", text=str(text))

    def worded(self, item_name: Callable[[int], str], batch: str) -> str:
        return _fill(self.template, self.other, self.values, item_name, batch)


def api_item_name(index: int) -> str:
    return f"item {index + 1}"


def _fill(
    template: str, other: int | None, values: dict[str, Any], item_name: Callable[[int], str], batch: str
) -> str:
    return template.format(other=item_name(other) if other is not None else "", batch=batch, **values)


ItemErrors = dict[str, list[ItemMessage]]


class BatchValidationError(ValidationError):
    """A refused batch: ``item_errors`` holds one dict per input item, ``{}`` for valid ones.

    Keys are model field names (``NON_FIELD_ERRORS`` for the item as a whole); each message
    is an ``ItemMessage``.
    """

    def __init__(self, item_errors: Sequence[dict[str, Sequence[str]]]):
        self.item_errors: list[ItemErrors] = [
            {key: [ItemMessage.plain(text) for text in texts] for key, texts in item.items()}
            for item in item_errors
        ]
        super().__init__("One or more items are invalid; nothing was stored.")


def errors_of(error: ValidationError) -> dict[str, list[str]]:
    """A Django ValidationError as field -> messages (``NON_FIELD_ERRORS`` without a field)."""
    return error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}


def unsaved_object(
    model: type[M], values: dict[str, Any], related: dict[str, models.Model] | None = None
) -> M:
    """``model(**kwargs)`` built through ``Model.__init__``'s positional path: ``values`` by
    attname (``user_id``), every other column its default, and ``related`` objects (by field
    name) cached as assigning them would; an unknown name raises ``TypeError``, as kwargs would.

    A batch of 500 spent a sixth of its time building its objects from kwargs (each through
    the related descriptors and ``get_default``); this is the path Django takes for rows read.
    """
    layout = _layouts.get(model) or _layout(model)
    related = related or {}
    if related:
        values = {**values, **{layout.attnames[name]: obj.pk for name, obj in related.items()}}
    if unknown := values.keys() - layout.defaults.keys():
        raise TypeError(f"{model.__name__}() got unexpected field(s): {', '.join(sorted(unknown))}")
    item = model(
        *[
            values[attname] if attname in values else (default() if callable(default) else default)
            for attname, default in layout.defaults.items()
        ]
    )
    for name, obj in related.items():
        layout.relations[name].set_cached_value(item, obj)
    return item


@dataclass(frozen=True)
class _Layout:
    defaults: dict[str, Any]  # attname -> default: a value, or a callable default to call per object
    attnames: dict[str, str]  # foreign key's name -> attname
    relations: dict[str, models.Field]  # foreign key's name -> field


_layouts: dict[type[models.Model], _Layout] = {}


def _layout(model: type[models.Model]) -> _Layout:
    fields = model._meta.concrete_fields
    defaults = {
        f.attname: f.default if f.has_default() and callable(f.default) else f.get_default() for f in fields
    }
    relations = {f.name: f for f in fields if f.is_relation}
    layout = _Layout(defaults, {name: f.attname for name, f in relations.items()}, relations)
    _layouts[model] = layout
    return layout


# --- the batch the rules see --------------------------------------------------------------


@dataclass
class Batch(Generic[M]):
    """A batch being checked: its items, their errors so far, and the stored rows they replace."""

    org: Organization
    items: list[M]
    errors: list[ItemErrors]
    replaced: dict[int, dict[str, Any]] = field(default_factory=dict)  # index -> stored row's values
    missing: set[int] = field(default_factory=set)  # indexes of edits whose row does not exist
    # First attempt on PostgreSQL: a rule that a constraint enforces too (no overlapping
    # entries) may skip its query when nothing else is wrong; if the database refuses the
    # write, the batch is checked again in full, which words the refusal (``save_batch``).
    trust_constraints: bool = False

    def add(self, index: int, key: str, template: str, *, other: int | None = None, **values: Any) -> None:
        """An error of item ``index`` (see ``ItemMessage`` for the template)."""
        self.errors[index].setdefault(key, []).append(ItemMessage(template, other=other, **values))

    def found(self) -> Iterator[tuple[int, M]]:
        """Items that are new or edit a row that exists."""
        return ((index, item) for index, item in enumerate(self.items) if index not in self.missing)

    def valid(self) -> Iterator[tuple[int, M]]:
        """Items without any error so far."""
        return ((index, item) for index, item in enumerate(self.items) if not self.errors[index])

    def replaced_pk(self, index: int) -> int | None:
        stored = self.replaced.get(index)
        return stored["pk"] if stored else None


@dataclass(frozen=True)
class Saved(Generic[M]):
    obj: M
    created: bool


Rules = Callable[[Batch[M]], None]


def save_batch(
    *,
    org: Organization,
    items: Sequence[M],
    rules: Rules | None = None,
    bulk_checked: Sequence[str] = (),
    stored_columns: Sequence[str] = (),
    owner_field: str | None = None,
    owner: Any = None,
    noun: str | None = None,
    kept_on_replay: Sequence[str] = (),
) -> list[Saved[M]]:
    """Validates and stores unsaved rows of ``org`` atomically; raises BatchValidationError.

    An item with ``pk`` set replaces that stored row (an edit); one with an ``external_id``
    already stored in the organization updates that row (an idempotent replay); any other is
    created. ``rules(batch)`` adds the app's errors across rows; ``bulk_checked`` names the
    fields it checks for the whole batch (``full_clean`` skips them: Django checks a foreign
    key with a query per item), ``stored_columns`` what it needs of the replaced rows. With
    ``owner`` set, only rows whose ``owner_field`` is that member may be replaced: the rule
    of a member allowed its own rows only (``msp_ops.orgs.access``), also for replays.
    A replay overwrites every field but those of ``kept_on_replay`` (e.g. who logged it).
    """
    items = list(items)
    if not items:
        return []
    model = type(items[0])
    noun = noun or str(model._meta.verbose_name)
    own_errors = _own_errors(org, items, bulk_checked)
    unsaved = [item for item in items if item.pk is None]
    columns = list(dict.fromkeys(["pk", *stored_columns, *([f"{owner_field}_id"] if owner_field else [])]))
    # A member allowed only its own rows: whose rows its replays may overwrite (``_write``).
    only_of = (f"{owner_field}_id", owner.pk) if owner is not None and owner_field else None

    # On PostgreSQL a first attempt (0) trusts the constraints (``Batch.trust_constraints``).
    for attempt in range(0 if connection.vendor == "postgresql" else 1, WRITE_ATTEMPTS + 1):
        try:
            # Checks and write in one transaction (a savepoint inside the caller's): the rows
            # an edit replaces stay locked until it commits, so two concurrent changes of one
            # row (e.g. two status moves) are checked one after the other. A batch written in
            # one statement that locks nothing needs none: the statement is atomic by itself
            # and the checks read what any transaction would (READ COMMITTED).
            with transaction.atomic() if _needs_transaction(items, only_of) else nullcontext():
                batch = Batch(
                    org,
                    items,
                    [{key: list(texts) for key, texts in item.items()} for item in own_errors],
                    trust_constraints=attempt == 0,
                )
                _match_stored(batch, model, columns, noun)
                if only_of is not None:
                    _check_owner(batch, owner_field, owner, noun)
                if rules is not None:
                    rules(batch)
                if any(batch.errors):
                    raise BatchValidationError(batch.errors)
                return _write(model, batch, kept_on_replay, only_of)
        except (IntegrityError, OperationalError) as error:
            # A concurrent request stored a colliding row (or the same external_id) after our
            # checks and the database refused ours: check again against what it committed
            # (which names the collision), or write again as an update of the replayed row.
            if not _lost_race(error) or attempt == WRITE_ATTEMPTS:
                raise
            _forget_pks(unsaved)
    raise AssertionError("unreachable")


def _needs_transaction(items: Sequence[models.Model], only_of: tuple[str, Any] | None = None) -> bool:
    """Whether a batch needs a transaction (a savepoint inside the caller's): edits (rows to
    lock), or more than one statement, or a caller's transaction to keep usable after a refusal,
    or replays of a member allowed only its own rows (a replay the upsert finds another
    member's rolls the batch back: ``_upsert_returning``)."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return True
    upserts = sum(1 for item in items if getattr(item, "external_id", None))
    if any(item.pk is not None for item in items) or 0 < upserts < len(items):
        return True
    if upserts and only_of is not None:
        return True
    return len(items) > STATEMENT_SIZE


def _forget_pks(unsaved: Sequence[models.Model]) -> None:
    """After a rolled-back write, the items that were to be created are unsaved again."""
    for item in unsaved:
        item.pk = None
        item._state.adding = True


def _own_errors(org: Organization, items: list[M], bulk_checked: Sequence[str]) -> list[ItemErrors]:
    """Each item's own fields (``full_clean``), and external_ids given twice in the batch."""
    errors: list[ItemErrors] = [{} for _ in items]
    seen: dict[str, int] = {}
    excluded = {"organization", *bulk_checked}
    plain = _plain_fields(type(items[0])) if items else ()
    for index, item in enumerate(items):
        item.organization = org
        try:
            item.full_clean(
                exclude=excluded
                | {name for name, attname, kind in plain if type(getattr(item, attname)) is kind},
                validate_unique=False,
                validate_constraints=False,
            )
        except ValidationError as error:
            errors[index] = {
                key: [ItemMessage.plain(t) for t in texts] for key, texts in errors_of(error).items()
            }
        if getattr(item, "external_id", None) == "":
            item.external_id = None
        external_id = getattr(item, "external_id", None)
        if external_id is None:
            continue
        if external_id in seen:
            errors[index].setdefault("external_id", []).append(
                ItemMessage(
                    "external_id '{external_id}' appears twice in {batch} ({other}).",
                    other=seen[external_id],
                    external_id=external_id,
                )
            )
        else:
            seen[external_id] = index
    return errors


@functools.cache
def _plain_fields(model: type[models.Model]) -> tuple[tuple[str, str, type], ...]:
    """Fields whose ``clean()`` gives a value of this type back unchanged and refuses none:
    no choices, no validators, a boolean or a datetime (Django's ``to_python`` returns it as
    it is, ``validate`` finds it neither null nor blank). ``full_clean`` skips them for such
    values (a third of its time in a batch), with the same outcome."""
    kinds = {"BooleanField": bool, "DateTimeField": datetime}
    return tuple(
        (f.name, f.attname, kinds[f.get_internal_type()])
        for f in model._meta.concrete_fields
        if f.get_internal_type() in kinds and f.choices is None and not f.validators and not f.generated
    )


def _match_stored(batch: Batch, model: type[models.Model], columns: list[str], noun: str) -> None:
    """The stored rows that edits (by pk) and replays (by external_id) replace: a query each."""
    edited = {item.pk for item in batch.items if item.pk is not None}
    named = {
        item.external_id for item in batch.items if item.pk is None and getattr(item, "external_id", None)
    }
    edits_naming = {
        item.external_id for item in batch.items if item.pk is not None and getattr(item, "external_id", None)
    }
    # No queryset is built for new items without external_ids (a tenth of a single POST's Python).
    scoped = model.objects.for_org(batch.org).order_by() if edited or named or edits_naming else None
    by_pk = {}
    if edited:
        locked = scoped.filter(pk__in=edited).select_for_update()
        by_pk = {row["pk"]: row for row in locked.values(*columns)}
    by_external_id: dict[str, dict[str, Any]] = {}
    if named or edits_naming:
        by_external_id = {
            row.pop("external_id"): row
            for row in scoped.filter(external_id__in=named | edits_naming).values(*columns, "external_id")
        }
    for index, item in enumerate(batch.items):
        external_id = getattr(item, "external_id", None)
        if item.pk is not None:
            if item.pk not in by_pk:
                batch.missing.add(index)
                batch.add(
                    index,
                    NON_FIELD_ERRORS,
                    "{noun} #{pk} does not exist.",
                    noun=noun.capitalize(),
                    pk=item.pk,
                )
                continue
            batch.replaced[index] = by_pk[item.pk]
            other = by_external_id.get(external_id) if external_id else None
            if other is not None and other["pk"] != item.pk:
                batch.add(
                    index,
                    "external_id",
                    "external_id '{external_id}' already belongs to {noun} #{pk}.",
                    external_id=external_id,
                    noun=noun,
                    pk=other["pk"],
                )
        elif external_id and external_id in by_external_id:
            batch.replaced[index] = by_external_id[external_id]


def _check_owner(batch: Batch, owner_field: str, owner: Any, noun: str) -> None:
    """A member allowed only its own rows replaces no row of another member (nor takes it over)."""
    attname = f"{owner_field}_id"
    for index, stored in batch.replaced.items():
        if stored[attname] != owner.pk:
            item = batch.items[index]
            if item.pk is None:
                template, key = "external_id '{external_id}' names another member's {noun}", "external_id"
            else:
                template, key = "{Noun} #{pk} belongs to another member", NON_FIELD_ERRORS
            batch.add(
                index,
                key,
                template + "; your role may change only your own.",
                external_id=getattr(item, "external_id", None),
                noun=noun,
                Noun=noun.capitalize(),
                pk=item.pk,
            )


def check_members(batch: Batch, field_name: str = "user", known: Collection[int] = ()) -> None:
    """Each item's ``field_name`` is a member of the organization (one query for the batch).

    ``known``: ids of users the caller read as members of the organization in this request
    (the API token's member, the usernames a batch named); they are not read again.
    """
    attname = f"{field_name}_id"
    wanted = {getattr(item, attname) for item in batch.items} - {None}
    members = set(known) & wanted
    if unknown := wanted - members:
        members.update(
            Membership.objects.for_org(batch.org)
            .filter(user_id__in=unknown)
            .order_by()  # the default ordering would join organization and user
            .values_list("user_id", flat=True)
        )
    for index, item in enumerate(batch.items):
        value = getattr(item, attname)
        if value is None:
            batch.add(index, field_name, "This field is required.")
        elif value not in members:
            batch.add(index, field_name, "Not a member of this organization.")


def _lost_race(error: Exception) -> bool:
    """A constraint refused the write, or PostgreSQL broke a deadlock between two upserts of
    the same rows (both are settled by checking and writing again)."""
    if isinstance(error, IntegrityError):
        return True
    return getattr(error.__cause__, "sqlstate", None) == DEADLOCK_DETECTED


# --- the write ----------------------------------------------------------------------------


def upsert_fields(model: type[models.Model], kept: Sequence[str] = ()) -> list[models.Field]:
    """What a replay overwrites: every column but the key, organization, external_id, the
    creation time and the ``kept`` ones."""
    return [
        f
        for f in model._meta.concrete_fields
        if not f.primary_key
        and f.name not in ("organization", "external_id", *kept)
        and not getattr(f, "auto_now_add", False)
    ]


def _write(
    model: type[M],
    batch: Batch[M],
    kept_on_replay: Sequence[str] = (),
    only_of: tuple[str, Any] | None = None,
) -> list[Saved[M]]:
    now = timezone.now()
    for item in batch.items:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or (getattr(f, "auto_now_add", False) and item.pk is None):
                setattr(item, f.attname, now)
    replays = {index for index in batch.replaced if batch.items[index].pk is None}
    edits = [item for item in batch.items if item.pk is not None]
    upserts = [item for item in batch.items if item.pk is None and getattr(item, "external_id", None)]
    inserts = [item for item in batch.items if item.pk is None and not getattr(item, "external_id", None)]
    fields = upsert_fields(model, kept_on_replay)
    if edits:
        edited = [f.name for f in upsert_fields(model)]
        if any(f.name == "external_id" for f in model._meta.concrete_fields):
            edited.append("external_id")
        model.objects.bulk_update(edits, edited, batch_size=STATEMENT_SIZE)
    inserted: set[int] = set()
    if upserts:
        if connection.vendor == "postgresql":
            inserted = _upsert_returning(model, upserts, fields, only_of)
        else:
            # SQLite (the embedded default) serializes its writers; what was matched holds.
            model.objects.bulk_create(
                upserts,
                update_conflicts=True,
                unique_fields=["organization", "external_id"],
                update_fields=[f.name for f in fields],
                batch_size=STATEMENT_SIZE,
            )
            _fill_pks(model, upserts)
            replayed = {batch.items[index].external_id for index in replays}
            inserted = {id(item) for item in upserts if item.external_id not in replayed}
    if inserts:
        if connection.vendor == "postgresql":
            _insert_returning(model, inserts)  # bulk_create would wrap it in a transaction of its own
        else:
            model.objects.bulk_create(inserts, batch_size=STATEMENT_SIZE)
    created = inserted | {id(item) for item in inserts}
    return [Saved(item, id(item) in created) for item in batch.items]


class ReplacedMeanwhile(IntegrityError):
    """A replay found its external_id stored, after the checks, as another member's row."""


def _upsert_returning(
    model: type[M], items: list[M], fields: list[models.Field], only_of: tuple[str, Any] | None = None
) -> set[int]:
    """``INSERT ... ON CONFLICT DO UPDATE`` that says which rows it inserted (``xmax = 0``):
    of two racing replays of a new external_id, only the one that inserted reports it.

    Items are written in external_id order, so two batches replaying the same ids take
    their row locks in the same order.

    With ``only_of`` (a column and a member: a role allowed only its own rows) a stored row
    is overwritten only when it is that member's. The checks found the external_id new or the
    member's own, but a concurrent request may have stored it since as another member's: that
    row is left as it is, and the batch (in a transaction: ``_needs_transaction``) is refused
    as a lost race (``ReplacedMeanwhile``), checked again and answered as the checks answer
    such a replay ("names another member's ...").
    """
    meta = model._meta
    quote = connection.ops.quote_name
    org_column = meta.get_field("organization").column
    external_id_column = meta.get_field("external_id").column
    assignments = ", ".join(f"{quote(f.column)} = EXCLUDED.{quote(f.column)}" for f in fields)
    items = sorted(items, key=lambda item: item.external_id)
    by_external_id = {item.external_id: item for item in items}
    inserted: set[int] = set()
    only_theirs = f" WHERE {quote(meta.db_table)}.{quote(only_of[0])} = %s" if only_of else ""
    tail = (
        f"ON CONFLICT ({quote(org_column)}, {quote(external_id_column)}) DO UPDATE SET {assignments}"
        f"{only_theirs} RETURNING {quote(meta.pk.column)}, {quote(external_id_column)}, (xmax = 0)"
    )
    for start in range(0, len(items), STATEMENT_SIZE):
        chunk = items[start : start + STATEMENT_SIZE]
        rows = _insert_rows(model, chunk, tail, [only_of[1]] if only_of else [])
        if len(rows) < len(chunk):  # a row the WHERE kept from being overwritten
            raise ReplacedMeanwhile("a replayed external_id is stored as another member's row")
        for pk, external_id, was_inserted in rows:
            item = by_external_id[external_id]
            _stored(item, pk)
            if was_inserted:
                inserted.add(id(item))
    return inserted


def _insert_returning(model: type[M], items: list[M]) -> None:
    """``INSERT ... RETURNING`` the ids, a statement per ``STATEMENT_SIZE`` items, in the
    caller's transaction if any (``bulk_create`` would open one of its own)."""
    pk_column = connection.ops.quote_name(model._meta.pk.column)
    for start in range(0, len(items), STATEMENT_SIZE):
        chunk = items[start : start + STATEMENT_SIZE]
        # Rows come back in the order they were given, which bulk_create relies on too.
        for item, (pk,) in zip(chunk, _insert_rows(model, chunk, f"RETURNING {pk_column}"), strict=True):
            _stored(item, pk)


# Columns PostgreSQL takes as one array parameter each (``unnest``); others go row by row.
_ARRAY_TYPES = {
    "AutoField",
    "BigAutoField",
    "BigIntegerField",
    "BooleanField",
    "CharField",
    "DateField",
    "DateTimeField",
    "DecimalField",
    "ForeignKey",
    "IntegerField",
    "PositiveIntegerField",
    "PositiveSmallIntegerField",
    "SlugField",
    "SmallIntegerField",
    "TextField",
    "TimeField",
}


def _insert_rows(
    model: type[models.Model], items: list[models.Model], tail: str, tail_params: Sequence[Any] = ()
) -> list[tuple]:
    """One ``INSERT`` of ``items`` ending with ``tail`` (``ON CONFLICT``, ``RETURNING``; its
    placeholders' values ``tail_params``); its rows.

    Each column is one array parameter, unnested by PostgreSQL (20 parameters for 500 rows, not
    10,000 placeholders for the driver to parse and the server to plan); a single row goes as
    plain values (a one-element array per column cost the driver more than the row). The
    statement's text is made once per model, tail and shape.
    """
    columns = [f for f in model._meta.concrete_fields if not f.primary_key]
    arrays = len(items) > 1 and all(f.get_internal_type() in _ARRAY_TYPES for f in columns)
    sql = _insert_sql(model, tail, len(items), arrays)
    if arrays:
        params: list[Any] = [_array_literal(_column_values(f, items)) for f in columns]
    elif len(items) == 1:
        params = [_column_values(f, items)[0] for f in columns]
    else:
        params = [f.get_db_prep_save(getattr(item, f.attname), connection) for item in items for f in columns]
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *tail_params])
        return cursor.fetchall()


@functools.lru_cache(maxsize=64)
def _insert_sql(model: type[models.Model], tail: str, rows: int, arrays: bool) -> str:
    meta = model._meta
    quote = connection.ops.quote_name
    columns = [f for f in meta.concrete_fields if not f.primary_key]
    names = ", ".join(quote(f.column) for f in columns)
    if arrays:
        casts = ", ".join(f"%s::{f.db_type(connection)}[]" for f in columns)
        return f"INSERT INTO {quote(meta.db_table)} ({names}) SELECT * FROM unnest({casts}) {tail}"
    row = "(" + ", ".join(["%s"] * len(columns)) + ")"
    return f"INSERT INTO {quote(meta.db_table)} ({names}) VALUES {', '.join([row] * rows)} {tail}"


# Field types whose database value is the Python value itself when it has this type (or is
# None): their per-value get_db_prep_save is skipped (a third of a 500-row statement's time).
_PLAIN_VALUES: dict[str, type] = {
    "BigIntegerField": int,
    "BooleanField": bool,
    "CharField": str,
    "ForeignKey": int,
    "IntegerField": int,
    "PositiveIntegerField": int,
    "PositiveSmallIntegerField": int,
    "SlugField": str,
    "SmallIntegerField": int,
    "TextField": str,
}


def _column_values(f: models.Field, items: list[models.Model]) -> list[Any]:
    values = [getattr(item, f.attname) for item in items]
    plain = _PLAIN_VALUES.get(f.get_internal_type())
    if plain is not None and all(value is None or type(value) is plain for value in values):
        return values
    if f.get_internal_type() == "DateTimeField" and all(
        value is None or (type(value) is datetime and value.utcoffset() is not None) for value in values
    ):
        return values  # aware datetimes: PostgreSQL's adapter takes them as they are
    return [f.get_db_prep_save(value, connection) for value in values]


def _array_literal(values: list[Any]) -> Any:
    """A column's values as one PostgreSQL array literal (``{1,NULL}``, ``{"a \\"b\\"",""}``)
    when they are all ids, booleans, text or aware datetimes (or None): psycopg renders a list
    element by element in Python, a tenth of a 500-row statement's time. Else the list itself."""
    # Text choices (str subclasses) are text; booleans are not ids.
    kinds = {str if isinstance(value, str) else type(value) for value in values} - {type(None)}
    if len(kinds) != 1:
        return values if kinds else "{" + ",".join(["NULL"] * len(values)) + "}"
    kind = kinds.pop()
    if kind is str:
        quoted = (
            '"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' if v is not None else "NULL"
            for v in values
        )
    elif kind is int:
        quoted = (str(v) if v is not None else "NULL" for v in values)
    elif kind is bool:
        quoted = (("t" if v else "f") if v is not None else "NULL" for v in values)
    elif kind is datetime and all(v is None or v.utcoffset() is not None for v in values):
        quoted = (v.isoformat() if v is not None else "NULL" for v in values)  # ISO 8601 needs no quotes
    else:
        return values
    return "{" + ",".join(quoted) + "}"


def _stored(item: models.Model, pk: Any) -> None:
    item.pk = pk
    item._state.adding = False
    item._state.db = connection.alias


def _fill_pks(model: type[M], items: list[M]) -> None:
    # SQLite cannot return the ids of upserted rows.
    pks = dict(
        model.objects.for_org(items[0].organization)
        .filter(external_id__in=[item.external_id for item in items])
        .values_list("external_id", "pk")
    )
    for item in items:
        item.pk = pks[item.external_id]
