"""Records through their sources: validation against the object's schema, conversion.

The engine and the API never touch a record source's storage directly: they call
:class:`RecordService`, which finds the object's active definition, checks values
against its fields (clear errors naming the field), and asks the object's source (a
plugin: ``builtin`` is Stageflow's own tables) to store them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from .clock import Clock, SystemClock
from .definitions import store
from .definitions.spec import FIELD_TYPES, SYSTEM_FIELDS, FieldSpec, ObjectSpec
from .extension import Page, Record, RecordSource
from .grammar import FormulaError, compile_formula
from .grammar import types as T


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
    converted = T.coerce(value, formula_type)
    if field.type == "picklist" and converted is not None and converted not in field.values:
        raise ValueError(f"{converted!r} is not one of {', '.join(field.values)}")
    if field.type == "multipicklist" and converted is not None:
        unknown = [v for v in converted.split(";") if v not in field.values]
        if unknown:
            raise ValueError(f"{', '.join(unknown)} not among {', '.join(field.values)}")
    return converted


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


class RecordService:
    """Records of every deployed object, through the object's record source."""

    def __init__(self, sources: Mapping[str, RecordSource], clock: Clock | None = None) -> None:
        self.sources = dict(sources)
        self.clock = clock or SystemClock()

    def object_spec(self, name: str) -> ObjectSpec:
        """The active definition of an object.  RecordNotFound when there is none."""
        try:
            return store.active_spec("object", name)[1]  # type: ignore[return-value]
        except store.DefinitionNotFound:
            raise RecordNotFound(f"No object named {name!r} is deployed") from None

    def source_for(self, spec: ObjectSpec) -> RecordSource:
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
        if creating:
            for field in spec.fields:
                if field.required is True and cleaned.get(field.name) is None:
                    errors.setdefault(field.name, "is required")
        if errors:
            raise RecordError(errors)
        return cleaned

    def get(self, object_name: str, record_id: str) -> Record:
        """A record.  RecordNotFound if it does not exist."""
        spec = self.object_spec(object_name)
        record = self.source_for(spec).get(object_name, str(record_id))
        if record is None:
            raise RecordNotFound(f"No {object_name} record with id {record_id!r}")
        return record

    def create(
        self, object_name: str, values: Mapping[str, Any], *, owner: str | None = None
    ) -> Record:
        """Validate and store a new record; fields left blank take their defaults."""
        spec = self.object_spec(object_name)
        values = with_defaults(spec, values, self.clock.now())
        cleaned = self.clean(spec, values, creating=True)
        return self.source_for(spec).create(object_name, cleaned, owner=owner)

    def update(self, object_name: str, record_id: str, values: Mapping[str, Any]) -> Record:
        """Validate and apply changes to some fields of a record."""
        spec = self.object_spec(object_name)
        cleaned = self.clean(spec, values, creating=False)
        try:
            return self.source_for(spec).update(object_name, str(record_id), cleaned)
        except KeyError:
            raise RecordNotFound(f"No {object_name} record with id {record_id!r}") from None

    def delete(self, object_name: str, record_id: str) -> None:
        """Remove a record."""
        spec = self.object_spec(object_name)
        try:
            self.source_for(spec).delete(object_name, str(record_id))
        except KeyError:
            raise RecordNotFound(f"No {object_name} record with id {record_id!r}") from None

    def query(
        self,
        object_name: str,
        where: Mapping[str, Any] | None = None,
        *,
        order_by: str | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> Page:
        """A page of records whose fields equal ``where``'s values, sorted by ``order_by``
        (a field name, ``-`` in front for descending; default ``Id``).

        RecordError names a filter or sort field the object does not have.
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
        return self.source_for(spec).query(
            object_name, {**cleaned, **system}, order_by=order_by, limit=limit, cursor=cursor
        )

    def formula_values(self, spec: ObjectSpec, record: Mapping[str, Any]) -> dict[str, Any]:
        """A stored record as formula values (numbers as Decimal, dates as dates…)."""
        values: dict[str, Any] = {}
        for name, type_ in SYSTEM_FIELDS.items():
            values[name] = _coerce_quietly(record.get(name), type_)
        for field in spec.fields:
            values[field.name] = _coerce_quietly(record.get(field.name), field.formula_type)
        return values


def _coerce_quietly(value: Any, formula_type: str) -> Any:
    try:
        return T.coerce(value, formula_type)
    except ValueError:
        return None  # a value stored before the field's type changed reads as blank
