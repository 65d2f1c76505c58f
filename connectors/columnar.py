"""Columnar parsing for the high-volume streams (Meta insights, GA4 traffic).

A batch of records becomes Arrow columns in one pass of pyarrow's JSON reader
(C++) over their JSON, then typed columns by Arrow casts: no Python call per
value. Per record, Python only serialises the record once, and that JSON is
`_record` too. This is what makes a million-row pull fast; `BatchBuilder` (a
Python call per value) stays the way for the other streams.

A page's records can also reach the builder as their texts: `decode_records`
(an `ApiClient` decoder, run in the prefetch thread) cuts them out of the
page's bytes, so they never become Python objects at all; the records' JSON
is the same text either way.

The results are exactly `Values`'s: the same nulls ("", "-", missing), the
same numbers, dates and errors. Arrow takes the common case (well-formed
strings); a column holding anything else is parsed value by value by
`Values` itself, and a record with a value that does not parse is
quarantined with the reason, as `BatchBuilder` does.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pajson

from connectors.base import BATCH_ROWS, MISSING_KEY, ParseError, Quarantined, Stream, Values, fits, required_columns


@dataclass(frozen=True)
class Wire:
    """How one column parses from its wire string: `kind` names the `Values`
    method that defines the result ("int", "decimal", "float", "date"),
    `label` the wire field errors name, `date_format` the wire format of dates."""

    kind: str
    label: str
    date_format: str = "%Y-%m-%d"


class RecordTexts(list):
    """A page's records as their JSON texts (bytes, each as orjson writes the
    record), cut out of the page by `decode_records`: the builder reads them
    as it reads the records it serialises itself."""


# columns(table of the records, in wire_schema) -> the stream's columns: wire
# strings for the columns `wire` names, final values for the others.
Columns = Callable[[pa.Table], dict[str, pa.Array | pa.ChunkedArray]]


class ColumnarBuilder:
    """Collects whole records and emits typed Arrow batches of the stream.

    `side_columns` are columns whose values come with each record rather
    than from it (GA4's currency, from the page's metadata).
    """

    def __init__(self, stream: Stream, account_id: str, values: Values, quarantine: list[Quarantined],
                 wire_schema: pa.Schema, columns: Columns, wire: dict[str, Wire], side_columns: tuple[str, ...] = ()) -> None:
        self.stream, self.account_id, self.values, self.quarantine = stream, account_id, values, quarantine
        values.problems = []  # collect, do not raise: the record is quarantined
        self.wire_schema, self.columns, self.wire, self.side_columns = wire_schema, columns, wire, side_columns
        self._lines: list[bytes] = []  # the JSON of records added by extend(), not yet read
        self._segments: list[tuple[pa.Table, pa.Array, dict[int, list[ParseError]]]] = []  # read ones
        self._side: list[tuple] = []

    def __len__(self) -> int:
        return len(self._lines) + sum(table.num_rows for table, _, _ in self._segments)

    def extend(self, records: list[dict[str, Any]] | RecordTexts, side: tuple = ()) -> None:
        """Add records: a page's dicts (serialised in a loop in C, not per
        record in Python), or their texts (`decode_records`)."""
        self._lines.extend(records if isinstance(records, RecordTexts) else map(orjson.dumps, records))
        if self.side_columns:
            self._side.extend([side] * len(records))

    def extend_read(self, table: pa.Table, records: pa.Array, side: tuple = ()) -> None:
        """Add records a connector has already read column-wise into wire_schema's
        columns, with each record's JSON (`records`, one string per row)."""
        self._read_lines()
        self._segments.append((table, records, {}))
        if self.side_columns:
            self._side.extend([side] * table.num_rows)

    def discard(self) -> None:
        """Forget the records added since the last flush."""
        self._lines, self._segments, self._side = [], [], []

    def full(self) -> bool:
        return len(self) >= BATCH_ROWS

    def flush(self) -> pa.RecordBatch | None:
        self._read_lines()
        if not self._segments:
            return None
        segments, side = self._segments, self._side
        self.discard()
        table = pa.concat_tables([segment for segment, _, _ in segments])
        records = pa.concat_arrays([chunk for _, chunk, _ in segments])
        problems: dict[int, list[ParseError]] = {}
        offset = 0
        for segment, _, held in segments:
            problems.update({offset + row: reasons for row, reasons in held.items()})
            offset += segment.num_rows
        columns = self.columns(table)
        for i, name in enumerate(self.side_columns):
            columns[name] = pa.array([values[i] for values in side], pa.string())
        arrays = [pa.array(np.full(table.num_rows, self.account_id, dtype=object), pa.string())]
        for f in self.stream.schema:
            column = columns[f.name]
            wire = self.wire.get(f.name)
            if wire is None:
                arrays.append(_single(column).cast(f.type))
                continue
            array, failed = _parse_column(self.values, wire, _single(column), f.type)
            arrays.append(array)
            for row, problem in failed.items():
                problems.setdefault(row, []).append(problem)
        for name in required_columns(self.stream):
            missing = arrays[self.stream.schema.get_field_index(name) + 1].is_null()
            for row in np.flatnonzero(missing.to_numpy(zero_copy_only=False)):
                problems.setdefault(int(row), []).append(ParseError(self.values.channel, self.values.stream, name, None, MISSING_KEY))
        arrays.append(records)
        batch = pa.RecordBatch.from_arrays(arrays, schema=self.stream.arrow_schema)
        if problems:
            for row in sorted(problems):
                self.quarantine.append(Quarantined(self.account_id, problems[row], records[row].as_py()))
            batch = batch.filter(pa.array(np.isin(np.arange(table.num_rows), list(problems), invert=True)))
        return batch if batch.num_rows else None

    def _read_lines(self) -> None:
        """Read the records added by extend() into columns (pyarrow's JSON reader)."""
        if self._lines:
            table, problems = _wire_table(self._lines, self.wire_schema, self.values)
            self._segments.append((table, _records(self._lines), problems))
            self._lines = []


def first_action_value(lists: pa.Array | pa.ChunkedArray, action_type: str) -> pa.Array:
    """Per row, the value of the first entry whose action_type matches, in a
    list of {action_type, value} (Meta's `actions`); "0" when the list or the
    type is absent (an omitted action is zero, not null)."""
    lists = _single(lists)
    flat = pc.list_flatten(lists)
    rows = pc.list_parent_indices(lists).to_numpy()
    match = pc.fill_null(pc.equal(flat.field("action_type"), action_type), False)
    matched_rows = rows[match.to_numpy(zero_copy_only=False)]
    matched_values = flat.field("value").filter(match)
    found, first = np.unique(matched_rows, return_index=True)
    pick = np.zeros(len(lists), dtype=np.int64)
    has = np.zeros(len(lists), dtype=bool)
    pick[found], has[found] = first, True
    if not len(matched_values):
        return pa.array(np.full(len(lists), "0", dtype=object), pa.string())
    return pc.if_else(pa.array(has), matched_values.take(pa.array(pick)), pa.scalar("0", pa.string()))


def decode_records(content: bytes, key: str) -> dict[str, Any]:
    """A JSON page whose `key` holds its records (Graph's `{"data": [...],
    "paging": {...}}`) as a dict whose `key` is the records' texts
    (`RecordTexts`): the records never become Python objects, and the builder
    reads them all at once with Arrow. An `ApiClient` decoder. A page laid out
    otherwise comes back as plain JSON (`key` a list of dicts); a body that is
    not JSON raises ValueError (a cut-off transfer: retried)."""
    split = split_records(content, key)
    if split is None:
        return orjson.loads(content)
    body, lines = split
    body[key] = RecordTexts(lines)
    return body


def split_records(content: bytes, key: str) -> tuple[dict[str, Any], list[bytes]] | None:
    """A JSON object's records, `content[key]`, cut out of its bytes: the
    object without them (parsed, `key` an empty list) and each record's JSON
    as orjson writes the record, which is the very text the API sent when it
    is compact (a record with whitespace, numbers, literals or escapes is
    parsed and written again, so its text never depends on the path).

    Only the bytes that make JSON's structure are looked at (numpy, no Python
    per byte). None when `key` is not an array of objects written compactly
    (`[{...},{...}]`); the caller then parses the page as JSON.
    """
    data = np.frombuffer(content, np.uint8)
    at = np.flatnonzero(_split_bytes(data))
    chars = data[at]
    quote = chars == _QUOTE
    unusual = chars < 0x20  # control characters: never in a compact record
    if np.any(chars == _BACKSLASH):
        unusual |= chars == _BACKSLASH
        # A quote after an odd run of backslashes is escaped: part of its string.
        for i in np.flatnonzero(quote)[data[np.maximum(at[quote] - 1, 0)] == _BACKSLASH]:
            run = 0
            while at[i] - run - 1 >= 0 and data[at[i] - run - 1] == _BACKSLASH:
                run += 1
            quote[i] = run % 2 == 0
    if np.count_nonzero(quote) % 2:
        return None  # not JSON: the caller's parse says why
    inside = (np.cumsum(quote, dtype=np.uint8) & 1).view(bool)  # opening quotes and what follows them, up to the closing quote
    structural = ~inside & ~quote & (chars != _BACKSLASH) & (chars >= 0x20)
    s_at, s_chars = at[structural], chars[structural]
    step = _brackets(s_chars, _OPEN_OBJECT).view(np.int8) - _brackets(s_chars, _CLOSE_OBJECT).view(np.int8)
    depth = np.cumsum(step, dtype=np.int32)  # after each structural byte; the top object's members are at 1
    if not len(s_at) or s_chars[0] != _OPEN_OBJECT or depth[-1] != 0 or np.any(depth[:-1] <= 0):
        return None
    quotes = at[quote]
    name = f'"{key}"'.encode()
    arrays = np.flatnonzero((s_chars == _OPEN_ARRAY) & (depth == 2))
    for j in arrays[(s_chars[arrays - 1] == _COLON)]:
        close_quote = np.searchsorted(quotes, s_at[j - 1]) - 1
        if close_quote % 2 == 1 and content[quotes[close_quote - 1]:quotes[close_quote] + 1] == name:
            break
    else:
        return None
    k = j + 1 + int(np.argmax(depth[j + 1:] == 1))  # the array's closing bracket
    begin, end = s_at[j], s_at[k]
    inner = slice(j + 1, k)
    opens = np.flatnonzero((depth[inner] == 3) & (step[inner] == 1)) + j + 1
    closes = np.flatnonzero((depth[inner] == 2) & (step[inner] == -1)) + j + 1
    starts, stops = s_at[opens], s_at[closes] + 1  # each record's bytes: [start, stop)
    if len(opens) != len(closes) or np.any(s_chars[opens] != _OPEN_OBJECT):
        return None
    # Compact: the records follow each other with one comma between them.
    if len(starts):
        if (starts[0] != begin + 1 or stops[-1] != end or np.any(starts[1:] != stops[:-1] + 1)
                or np.any(data[stops[:-1]] != _COMMA)):
            return None
    elif end != begin + 1:
        return None
    try:
        body = orjson.loads(content[:begin + 1] + content[end:])
    except orjson.JSONDecodeError:
        return None
    # A record is written as orjson writes it unless it holds more than its
    # strings and JSON's structure (whitespace, numbers, literals) or an escape.
    string_bytes = np.concatenate([[0], np.cumsum(quotes[1::2] - quotes[0::2] + 1)])
    in_strings = (string_bytes[np.searchsorted(quotes[0::2], stops)] - string_bytes[np.searchsorted(quotes[0::2], starts)])
    structure = np.searchsorted(s_at, stops) - np.searchsorted(s_at, starts)
    unusual_at = at[unusual]
    escaped = np.searchsorted(unusual_at, stops) > np.searchsorted(unusual_at, starts)
    rewrite = escaped | (stops - starts != in_strings + structure)
    lines = [content[start:stop] for start, stop in zip(starts.tolist(), stops.tolist(), strict=True)]
    for i in np.flatnonzero(rewrite).tolist():
        lines[i] = orjson.dumps(orjson.loads(lines[i]))
    return body, lines


# --------------------------------------------------------------------------- internals


def _single(column: pa.Array | pa.ChunkedArray) -> pa.Array:
    if not isinstance(column, pa.ChunkedArray):
        return column
    # combine_chunks copies even a lone chunk: a window's records are usually one.
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _records(lines: list[bytes]) -> pa.Array:
    """The records' JSON as one string array, straight from the bytes."""
    lengths = np.fromiter(map(len, lines), dtype=np.int64, count=len(lines))
    offsets = np.zeros(len(lines) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    data = pa.py_buffer(b"".join(lines))
    return pa.Array.from_buffers(pa.large_string(), len(lines), [None, pa.py_buffer(offsets), data]).cast(pa.string())


def _wire_table(lines: list[bytes], schema: pa.Schema, values: Values) -> tuple[pa.Table, dict[int, list[ParseError]]]:
    """The records (JSON lines) as a table of `schema` (their other fields
    ignored: they live on in `_record`), and the records that do not fit its shape."""
    options = pajson.ParseOptions(explicit_schema=schema, unexpected_field_behavior="ignore")
    try:
        table = pajson.read_json(io.BytesIO(b"\n".join(lines)), read_options=pajson.ReadOptions(block_size=1 << 24),
                                 parse_options=options)
        if table.num_rows == len(lines):
            return table, {}
    except pa.ArrowInvalid:
        pass  # a value of another JSON type than the schema's (a number for a string): fit record by record
    fitted, problems = [], {}
    for row, line in enumerate(lines):
        try:
            fitted.append(_fit(_loads(line), pa.struct(list(schema)), ""))
        except _Misfit as misfit:
            fitted.append({})
            problems[row] = [ParseError(values.channel, values.stream, misfit.path, misfit.value, misfit.why)]
    return pa.Table.from_pylist(fitted, schema=schema), problems


def _loads(line: bytes) -> Any:
    """A record's JSON; `decode_records` passes on a compact record unparsed,
    and one that is not JSON after all is its own record's problem."""
    try:
        return orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise _Misfit("", line.decode(errors="replace"), f"not JSON ({exc})") from None


class _Misfit(ValueError):
    def __init__(self, path: str, value: Any, why: str) -> None:
        self.path, self.value, self.why = path, value, why


def _fit(value: Any, arrow_type: pa.DataType, path: str) -> Any:
    """A JSON value in the shape of arrow_type: numbers and booleans where a
    string is expected become their JSON text (as the API meant them);
    objects and lists where they do not belong are a misfit."""
    if value is None:
        return None
    if pa.types.is_struct(arrow_type):
        if not isinstance(value, dict):
            raise _Misfit(path, value, "not an object")
        return {f.name: _fit(value.get(f.name), f.type, f"{path}.{f.name}".lstrip(".")) for f in arrow_type}
    if pa.types.is_list(arrow_type):
        if not isinstance(value, list):
            raise _Misfit(path, value, "not a list")
        return [_fit(item, arrow_type.value_type, f"{path}[]") for item in value]
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int, float)):
        return orjson.dumps(value).decode()
    raise _Misfit(path, value, "not a single value")


# What split_records looks at: JSON's structure, quotes, escapes and control characters.
_QUOTE, _BACKSLASH, _COLON, _COMMA, _OPEN_OBJECT, _CLOSE_OBJECT, _OPEN_ARRAY = (ord(c) for c in '"\\:,{}[')


def _brackets(chars: np.ndarray, brace: int) -> np.ndarray:
    """Where chars are `brace` or its square bracket (`{` and `[`, `}` and `]`):
    the two differ in one bit only (0x7B/0x5B, 0x7D/0x5D)."""
    return (chars | 0x20) == brace


def _split_bytes(data: np.ndarray) -> np.ndarray:
    # Comparisons: several times faster than a lookup table indexed by the bytes.
    return (_brackets(data, _OPEN_OBJECT) | _brackets(data, _CLOSE_OBJECT) | (data == _QUOTE) | (data == _COLON)
            | (data == _COMMA) | (data == _BACKSLASH) | (data < 0x20))

_MISSING_TEXTS = pa.array(["", "-"], pa.string())  # Values.MISSING's strings
_DATE_SHAPES = {"%Y-%m-%d": r"^\d{4}-\d{2}-\d{2}$", "%Y%m%d": r"^\d{8}$"}


def _parse_column(values: Values, wire: Wire, strings: pa.Array,
                  arrow_type: pa.DataType) -> tuple[pa.Array, dict[int, ParseError]]:
    """The column parsed as `Values.<wire.kind>` parses each value; the
    values that do not parse come back by row (null in the array)."""
    strings = pc.if_else(pc.is_in(strings, _MISSING_TEXTS), pa.scalar(None, pa.string()), strings)
    array = _arrow_parse(wire, strings, arrow_type)
    if array is not None:
        return array, {}
    parse = getattr(values, wire.kind)
    extra = (wire.date_format,) if wire.kind == "date" else ()
    parsed, failed = [], {}
    for row, value in enumerate(strings.to_pylist()):
        number = parse(value, wire.label, *extra)
        if number is not None and wire.kind != "date" and not fits(number, arrow_type):
            values.problems.append(ParseError(values.channel, values.stream, wire.label, value, f"too large for {arrow_type}"))
        if values.problems:
            failed[row] = values.problems.pop()
            number = None
        parsed.append(number)
    return pa.array(parsed, arrow_type), failed


def _arrow_parse(wire: Wire, strings: pa.Array, arrow_type: pa.DataType) -> pa.Array | None:
    """Arrow's parse of the column, or None where Arrow and Python could
    differ (then Python parses it): Arrow refuses anything unusual, so a
    refusal sends the column back to Python."""
    try:
        if wire.kind == "float":
            numbers = strings.cast(arrow_type)
            # Arrow reads "NaN", "inf" and "1e309" as floats: Python refuses them.
            return numbers if pc.all(pc.is_finite(numbers)).as_py() is not False else None
        if wire.kind != "date":
            return strings.cast(arrow_type)
        shape = _DATE_SHAPES.get(wire.date_format)
        text = pc.utf8_slice_codeunits(strings, 0, len(dt.date(2000, 1, 1).strftime(wire.date_format)))
        # Arrow's strptime is laxer than Python's about digit counts...
        if shape is None or pc.all(pc.match_substring_regex(text, shape)).as_py() is False:
            return None
        parsed = pc.strptime(text, format=wire.date_format, unit="s")
        # ... and rolls impossible days over (0231 -> 0302) where Python refuses.
        if pc.all(pc.equal(pc.strftime(parsed, format=wire.date_format), text)).as_py() is False:
            return None
        return parsed.cast(pa.date32()).cast(arrow_type)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
