"""Records through their sources: validation against the object's schema, conversion.

The engine and the API never touch a record source's storage directly: they call
:class:`RecordService`, which finds the object's active definition, checks values
against its fields (clear errors naming the field), and asks the object's source (a
plugin: ``builtin`` is Stageflow's own tables) to store them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from . import fastsql
from .access import check_access, require_access
from .clock import Clock, SystemClock
from .db import database
from .definitions import store
from .definitions.spec import FIELD_TYPES, SYSTEM_FIELDS, FieldSpec, ObjectSpec
from .extension import Page, Record, RecordSource
from .grammar import FormulaError, compile_formula
from .grammar import types as T
from .models import User


class RecordError(ValueError):
    """Values a record cannot take; ``errors`` maps field names to what is wrong."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        self.errors = dict(errors)
        super().__init__("; ".join(f"{name}: {problem}" for name, problem in self.errors.items()))


class RecordNotFound(LookupError):
    """No record with that object and id."""


def to_json_value(value: Any) -> Any:
    """A formula value as stored in JSON: numbers stay numbers, dates become ISO text."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def convert_field(field: FieldSpec, value: Any) -> Any:
    """A submitted value as the field's formula value (ValueError with the reason)."""
    formula_type = FIELD_TYPES[field.type]
    if field.type == "checkbox" and isinstance(value, str):  # a form's or a URL's text
        word = value.strip().lower()
        if word not in _TRUE | _FALSE:
            raise ValueError(f"{value!r} is not true or false")
        return None if word == "" else word in _TRUE
    converted = T.coerce(value, formula_type)
    if field.type == "picklist" and converted is not None and converted not in field.values:
        raise ValueError(f"{converted!r} is not one of {', '.join(field.values)}")
    if field.type == "multipicklist" and converted is not None:
        unknown = [v for v in converted.split(";") if v not in field.values]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not among {', '.join(field.values)}")
    if converted is None:
        return None
    if field.type == "number" and field.scale is not None:
        converted = converted.quantize(Decimal(1).scaleb(-field.scale), rounding=ROUND_HALF_UP)
    elif field.type == "email" and not _EMAIL.fullmatch(converted):
        raise ValueError(f"{converted!r} is not an email address (name@example.com)")
    elif field.type == "url" and not _URL.fullmatch(converted):
        raise ValueError(f"{converted!r} is not a web address (https://…)")
    elif field.type == "user" and User.get_or_none(User.name == converted) is None:
        raise ValueError(f"there is no user named {converted!r}")
    return converted


_TRUE = {"true", "1", "yes", "on"}
_FALSE = {"false", "0", "no", "off", ""}
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_URL = re.compile(r"https?://[^\s/$.?#][^\s]*", re.IGNORECASE)


def with_defaults(
    spec: ObjectSpec, values: Mapping[str, Any], now: dt.datetime | None = None
) -> dict[str, Any]:
    """``values`` plus the default of every field they leave blank.

    Defaults are formulas (a literal default is a formula too); they see the values
    given, so a default may depend on another field.
    """
    filled = dict(values)
    for field in spec.fields:
        if field.default is not None and filled.get(field.name) in (None, ""):
            try:
                filled[field.name] = compile_formula(field.default).evaluate(values, now=now)
            except FormulaError as error:
                raise RecordError({field.name: f"default failed: {error.message}"}) from None
    return filled


@dataclass(frozen=True)
class RecordChange:
    """A record created, updated or deleted, as triggers and running runs see it.

    ``prior`` loads the record as it was before (None when created); it is called only
    by those that need it (``ISCHANGED``, ``only_when_changed``).
    """

    spec: ObjectSpec
    operation: str  # created | updated | deleted
    record: Mapping[str, Any]
    prior: Callable[[], Mapping[str, Any] | None]
    actor: str | None = None  # the user who made it; None: the system


class RecordService:
    """Records of every deployed object, through the object's record source.

    ``user=`` on a method means "on behalf of this person": what they may not see or
    change raises :class:`~stageflow.access.AccessDenied`.  Without it the caller is the
    system (the engine), which may do anything.  ``observers`` are told of every change:
    inside the write's transaction for sources that write to Stageflow's own database
    (``transactional``), from the change feed for the others.
    """

    def __init__(self, sources: Mapping[str, RecordSource], clock: Clock | None = None) -> None:
        self.sources = dict(sources)
        self.clock = clock or SystemClock()
        self.observers: list[Callable[[RecordChange], None]] = []
        #: Called with an object's name after a write to a source outside Stageflow's
        #: database, so its change feed is read at once (set by the server).
        self.follow: Callable[[str], None] | None = None

    def object_spec(self, name: str) -> ObjectSpec:
        """The active definition of an object, or the object a record source defines.

        RecordNotFound when there is neither.
        """
        try:
            return store.active_spec("object", name)[1]  # type: ignore[return-value]
        except store.DefinitionNotFound:
            spec = self.source_objects().get(name)
            if spec is None:
                raise RecordNotFound(f"No object named {name!r} is deployed") from None
            return spec

    def source_objects(self) -> dict[str, ObjectSpec]:
        """Objects that record sources define themselves (``RecordSource.objects()``)."""
        found: dict[str, ObjectSpec] = {}
        for source in self.sources.values():
            for name, fields in source.objects().items():
                specs = tuple(FieldSpec(field, type_) for field, type_ in fields.items())
                found[name] = ObjectSpec(name, specs, source=source.name)
        return found

    def objects(self) -> list[ObjectSpec]:
        """Every object there are records of: deployed ones, then source-defined, by name."""
        deployed = store.active_specs("object").get("object", {})
        merged = {**self.source_objects(), **deployed}
        return [merged[name] for name in sorted(merged)]  # type: ignore[misc]

    def source_for(self, spec: ObjectSpec) -> RecordSource:
        """The record source that serves ``spec``'s records."""
        source = self.sources.get(spec.source)
        if source is None:
            raise RecordNotFound(
                f"Object {spec.name!r} uses record source {spec.source!r}, which no plugin provides"
            )
        return source

    def clean(self, spec: ObjectSpec, values: Mapping[str, Any], *, creating: bool) -> dict:
        """Check values against the object's fields; return them ready to store."""
        errors: dict[str, str] = {}
        cleaned: dict[str, Any] = {}
        for name, value in values.items():
            field = spec.field(name)
            if field is None:
                if name in SYSTEM_FIELDS:
                    errors[name] = "is set by Stageflow and cannot be written"
                else:
                    known = ", ".join(f.name for f in spec.fields)
                    errors[name] = f"{spec.name} has no field {name!r} (fields: {known})"
                continue
            try:
                cleaned[name] = to_json_value(convert_field(field, value))
            except ValueError as error:
                errors[name] = str(error)
        for field in spec.fields:
            required = field.required is True and (creating or field.name in cleaned)
            if required and cleaned.get(field.name) is None:
                errors.setdefault(field.name, "is required")
        if errors:
            raise RecordError(errors)
        return cleaned

    def get(self, object_name: str, record_id: str, *, user: User | None = None) -> Record:
        """A record.  RecordNotFound if it does not exist; AccessDenied if ``user`` may not
        read it."""
        spec = self.object_spec(object_name)
        record = self._read(spec, record_id)
        require_access(user, spec, record, "read")
        return record

    def _read(self, spec: ObjectSpec, record_id: str) -> Record:
        record = self.source_for(spec).get(spec.name, str(record_id))
        if record is None:
            raise RecordNotFound(f"No {spec.name} record with id {record_id!r}")
        return record

    def create(
        self,
        object_name: str,
        values: Mapping[str, Any],
        *,
        owner: str | None = None,
        user: User | None = None,
    ) -> Record:
        """Validate and store a new record; fields left blank take their defaults.

        Every signed-in user may create records; they own them unless ``owner`` says
        otherwise.  Triggers fire (see :attr:`observers`).
        """
        spec = self.object_spec(object_name)
        values = with_defaults(spec, values, self.clock.now())
        cleaned = self.clean(spec, values, creating=True)
        self._check_rules(spec, cleaned, None)
        owner = owner if owner is not None else (user.name if user is not None else None)
        source = self.source_for(spec)
        with _atomic():
            record = source.create(object_name, cleaned, owner=owner)
            if source.transactional:
                self._notify(RecordChange(spec, "created", record, lambda: None, _name(user)))
        self._follow(spec, source)
        return record

    def update(
        self,
        object_name: str,
        record_id: str,
        values: Mapping[str, Any],
        *,
        user: User | None = None,
    ) -> Record:
        """Validate and apply changes to some fields of a record; triggers fire."""
        spec = self.object_spec(object_name)
        cleaned = self.clean(spec, values, creating=False)
        source = self.source_for(spec)
        with _atomic():
            before: Record | None = None
            if user is not None or spec.validations:
                before = self._read(spec, record_id)
                require_access(user, spec, before, "edit")
                self._check_rules(spec, {**before, **cleaned}, before)
            try:
                record = source.update(object_name, str(record_id), cleaned)
            except KeyError:
                raise RecordNotFound(f"No {object_name} record with id {record_id!r}") from None
            if source.transactional:
                prior = (lambda: before) if before is not None else _prior_of(source, spec, record)
                self._notify(RecordChange(spec, "updated", record, prior, _name(user)))
        self._follow(spec, source)
        return record

    def delete(self, object_name: str, record_id: str, *, user: User | None = None) -> None:
        """Remove a record (``user`` needs edit access)."""
        spec = self.object_spec(object_name)
        source = self.source_for(spec)
        with _atomic():
            if user is not None:
                require_access(user, spec, self._read(spec, record_id), "edit")
            try:
                source.delete(object_name, str(record_id))
            except KeyError:
                raise RecordNotFound(f"No {object_name} record with id {record_id!r}") from None
        self._follow(spec, source)

    def query(
        self,
        object_name: str,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
        user: User | None = None,
    ) -> Page:
        """A page of records whose fields equal ``where``'s values, sorted by ``order_by``
        (a field name, ``-`` in front for descending; default ``Id``).

        With ``user``, only the records they may read: the source's pages are read
        until ``limit`` readable records are found (each source page is taken whole, so
        the cursor stays the source's).  RecordError names a filter or sort field the
        object does not have.
        """
        spec = self.object_spec(object_name)
        where = dict(where or {})
        system = {k: str(v) for k, v in where.items() if k in SYSTEM_FIELDS}
        cleaned = self.clean(spec, {k: v for k, v in where.items() if k not in system},
                             creating=False)  # fmt: skip
        if order_by is not None:
            name = order_by.removeprefix("-")
            if name not in SYSTEM_FIELDS and spec.field(name) is None:
                known = ", ".join([*SYSTEM_FIELDS, *(f.name for f in spec.fields)])
                raise RecordError({"sort": f"{spec.name} has no field {name!r} (fields: {known})"})
        source = self.source_for(spec)
        found: list[Record] = []
        while True:
            page = source.query(object_name, {**cleaned, **system}, order_by=order_by,
                                limit=limit - len(found), cursor=cursor)  # fmt: skip
            found += [r for r in page.records if check_access(user, spec, r, "read")]
            cursor = page.cursor
            if cursor is None or len(found) >= limit:
                return Page(found, cursor)

    def _check_rules(
        self, spec: ObjectSpec, record: Mapping[str, Any], prior: Mapping[str, Any] | None
    ) -> None:
        """The object's validation rules: a rule whose condition is FALSE refuses the record
        (RecordError with the rule's message under ``_record``)."""
        if not spec.validations:
            return
        values = self.formula_values(spec, record)
        before = self.formula_values(spec, prior) if prior is not None else None
        for rule in spec.validations:
            try:
                holds = compile_formula(rule.condition).test(values, before, now=self.clock.now())
            except FormulaError as error:
                raise RecordError({"_record": f"validation rule failed: {error.message}"}) from None
            if not holds:
                raise RecordError({"_record": rule.message})

    def _notify(self, change: RecordChange) -> None:
        for observer in self.observers:
            observer(change)

    def _follow(self, spec: ObjectSpec, source: RecordSource) -> None:
        if not source.transactional and self.follow is not None:
            self.follow(spec.name)

    def formula_values(self, spec: ObjectSpec, record: Mapping[str, Any]) -> dict[str, Any]:
        """A stored record as formula values (numbers as Decimal, dates as dates…)."""
        values: dict[str, Any] = {}
        for name, type_ in SYSTEM_FIELDS.items():
            values[name] = _coerce_quietly(record.get(name), type_)
        for field in spec.fields:
            values[field.name] = _coerce_quietly(record.get(field.name), field.formula_type)
        return values


class FormulaRecord(Mapping[str, Any]):
    """A stored record read as formula values, each field converted when first read.

    ``__object__`` is the record's object (formulas follow lookups with it).  Cheaper
    than :meth:`RecordService.formula_values` when formulas read a few of many fields.
    """

    def __init__(self, spec: ObjectSpec, record: Mapping[str, Any]) -> None:
        self.spec = spec
        self._record = record
        self._values: dict[str, Any] = {"__object__": spec}

    def __getitem__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            pass
        type_ = self.spec.value_types.get(name)
        if type_ is None:
            raise KeyError(name) from None
        value = self._values[name] = _coerce_quietly(self._record.get(name), type_)
        return value

    def __iter__(self) -> Any:
        return iter(["__object__", *SYSTEM_FIELDS, *(f.name for f in self.spec.fields)])

    def __len__(self) -> int:
        return 1 + len(SYSTEM_FIELDS) + len(self.spec.fields)


def _coerce_quietly(value: Any, formula_type: str) -> Any:
    try:
        return T.coerce(value, formula_type)
    except ValueError:
        return None  # a value stored before the field's type changed reads as blank


def _name(user: User | None) -> str | None:
    return user.name if user is not None else None


def _prior_of(
    source: RecordSource, spec: ObjectSpec, record: Mapping[str, Any]
) -> Callable[[], Mapping[str, Any] | None]:
    """How to read the record as it was before its last update (if the source keeps it)."""
    return lambda: source.prior(spec.name, str(record["Id"]))


def _atomic() -> Any:
    """A transaction, or a savepoint inside the caller's (the engine's, for a step)."""
    return fastsql.savepoint("record") if database.in_transaction() else database.atomic()
