"""The columnar batch builder reads values exactly as `Values` does, value by
value: the same nulls, numbers, dates and errors, whether Arrow or Python
ends up parsing a column."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import orjson
import pyarrow as pa
import pytest

from connectors.base import MONEY, ParseError, Stream, Values
from connectors.columnar import ColumnarBuilder, Wire, first_action_value

KINDS = {"int": pa.int64(), "decimal": MONEY, "float": pa.float64(), "date": pa.date32()}
# Each list is one batch: well-formed columns take Arrow's path, the others Python's.
COLUMNS = {
    "int": [["1", "22", "-3", "007", None, "", "-"], ["5.0", "12"], [" 12", "3"], ["1e3", "2"], ["1_000", "2"]],
    "decimal": [["232.64", "0", "1.5", None, "-"], ["1.1234567", "2"], ["1e3", "2"], ["NaN", "1"], ["12,5", "1"],
                ["+3.25", ".5"]],
    "float": [["0.4126", "17", "3.0"], ["x", "1"], ["1_0", "2"]],
    "date": [["2024-05-01", "2025-12-31", None], ["2024-5-1", "2024-05-01"], ["2024-02-30", "2024-05-01"],
             ["2024-05-01T00:00:00+0000"], ["20240501"]],
    "yyyymmdd": [["20240501", "20241231", None], ["20240231", "20240501"], ["2024051", "20240501"]],
}


def one_column_stream(arrow_type: pa.DataType) -> Stream:
    return Stream("s", pa.schema([("v", arrow_type)]), key=("account_id",), date_column=None, description="test")


def build(kind: str, texts: list, quarantine: list) -> pa.RecordBatch | None:
    wire = Wire("date", "v", "%Y%m%d") if kind == "yyyymmdd" else Wire(kind, "v")
    stream = one_column_stream(KINDS[wire.kind])
    builder = ColumnarBuilder(stream, "a", Values("c", "s"), quarantine, pa.schema([("v", pa.string())]),
                              lambda table: {"v": table.column("v")}, {"v": wire})
    builder.extend([{"v": text} if text is not None else {} for text in texts])
    return builder.flush()


def one_by_one(kind: str, texts: list) -> tuple[list, dict[int, str]]:
    values = Values("c", "s")
    values.problems = []
    parsed, failed = [], {}
    for row, text in enumerate(texts):
        if kind == "yyyymmdd":
            value = values.date(text, "v", "%Y%m%d")
        else:
            value = getattr(values, kind)(text, "v")
        if values.problems:
            failed[row] = str(values.problems.pop())
        else:
            parsed.append(value)
    return parsed, failed


@pytest.mark.parametrize("kind,texts", [(kind, texts) for kind, lists in COLUMNS.items() for texts in lists])
def test_a_column_reads_as_values_reads_each_value(kind, texts):
    quarantine = []
    batch = build(kind, texts, quarantine)
    expected, failed = one_by_one(kind, texts)
    landed = batch.column("v").to_pylist() if batch is not None else []
    want_type = KINDS["date" if kind == "yyyymmdd" else kind]
    assert landed == pa.array(expected, want_type).to_pylist()
    # A value that does not parse holds its record back, named, as BatchBuilder does.
    assert [str(q.problems[0]) for q in quarantine] == list(failed.values())
    assert [orjson.loads(q.record) for q in quarantine] == [{"v": texts[row]} for row in failed]


def test_records_keep_every_field_and_numbers_sent_as_numbers_read_as_text():
    stream = one_column_stream(MONEY)
    builder = ColumnarBuilder(stream, "a", Values("c", "s"), [], pa.schema([("v", pa.string())]),
                              lambda table: {"v": table.column("v")}, {"v": Wire("decimal", "v")})
    builder.extend([{"v": 12.5, "extra": {"nested": [1, 2]}}, {"v": "7"}])
    batch = builder.flush()
    assert batch.column("v").to_pylist() == [Decimal("12.5"), Decimal("7")]
    assert orjson.loads(batch.column("_record")[0].as_py()) == {"v": 12.5, "extra": {"nested": [1, 2]}}
    assert batch.column("account_id").to_pylist() == ["a", "a"]


def test_a_record_of_the_wrong_shape_is_quarantined_by_field():
    quarantine = []
    stream = one_column_stream(MONEY)
    builder = ColumnarBuilder(stream, "a", Values("c", "s"), quarantine, pa.schema([("v", pa.string())]),
                              lambda table: {"v": table.column("v")}, {"v": Wire("decimal", "v")})
    builder.extend([{"v": {"amount": "1"}}, {"v": "2"}])
    batch = builder.flush()
    assert batch.column("v").to_pylist() == [Decimal("2")]
    (held,) = quarantine
    assert isinstance(held.problems[0], ParseError) and "'v'" in str(held.problems[0]) and "not a single value" in held.reason


def test_discard_forgets_what_was_added_since_the_last_flush():
    stream = one_column_stream(pa.int64())
    builder = ColumnarBuilder(stream, "a", Values("c", "s"), [], pa.schema([("v", pa.string())]),
                              lambda table: {"v": table.column("v")}, {"v": Wire("int", "v")})
    builder.extend([{"v": "1"}])
    builder.discard()
    builder.extend([{"v": "2"}])
    assert builder.flush().column("v").to_pylist() == [2]
    assert builder.flush() is None


def test_first_action_value_takes_one_type_never_a_sum_and_zero_when_absent():
    actions = pa.array([
        [{"action_type": "link_click", "value": "640"}, {"action_type": "purchase", "value": "14"},
         {"action_type": "omni_purchase", "value": "14"}, {"action_type": "purchase", "value": "99"}],
        None,
        [{"action_type": "link_click", "value": "3"}],
        [],
    ], pa.list_(pa.struct([("action_type", pa.string()), ("value", pa.string())])))
    assert first_action_value(actions, "purchase").to_pylist() == ["14", "0", "0", "0"]
    assert first_action_value(actions, "link_click").to_pylist() == ["640", "0", "3", "0"]
    assert first_action_value(actions, "lead").to_pylist() == ["0", "0", "0", "0"]


def test_dates_parse_to_the_day():
    batch = build("date", ["2024-02-29"], [])
    assert batch.column("v").to_pylist() == [dt.date(2024, 2, 29)]
