"""Reading user offering files for ``catalog import`` (on-premises machines, negotiated prices).

Format, chosen by the file extension:

* ``.csv``: a header row naming ``Offering`` fields, then one offering per row. An empty cell is
  "not given" (null), so the field's default applies. Line numbers in messages count the header
  as line 1 and point at the line where a record starts.
* ``.json``: an array of objects, or an object ``{"offerings": [...]}``; ``null`` is "not given".
  Messages name the item as ``offerings[i]`` (0-based).

Every row is validated with the ``Offering`` model. The first bad row raises
``InvalidInputError`` with ``"<file>:<line>: <field>: <message>"``, and the function returns
nothing, so a caller that stores only after a successful parse never half-imports a file. Also
rejected: unknown columns, a GPU label that names no known GPU (the message lists the known
ones), the same (provider, region, instance type) twice in one file, and a file with no rows.
Missing ``price_date`` defaults to today and missing ``source`` to ``import:<file name>``.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Collection, Iterator, Mapping
from datetime import date
from pathlib import Path
from typing import Any

from artenic_opt._internal.files import read_text_file
from artenic_opt.catalog.gpu_names import normalize_gpu_type
from artenic_opt.errors import InvalidInputError
from artenic_opt.schemas import Offering, parse_model


def _csv_records(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader)
    except StopIteration:
        raise InvalidInputError(f"{name}: empty file; expected a header row") from None
    except csv.Error as exc:
        raise InvalidInputError(f"{name}:1: not valid CSV ({exc})") from None
    columns = [column.strip() for column in header]
    known = set(Offering.model_fields)
    for column in columns:
        if column and column not in known:
            raise InvalidInputError(
                f"{name}:1: unknown column {column!r}; columns are Offering fields: "
                f"{', '.join(Offering.model_fields)}"
            )
    if len(set(columns)) != len(columns):
        raise InvalidInputError(f"{name}:1: a column name appears twice in the header")
    start = reader.line_num + 1
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise InvalidInputError(f"{name}:{start}: not valid CSV ({exc})") from None
        location = f"{name}:{start}"
        start = reader.line_num + 1
        if not any(cell.strip() for cell in cells):
            continue
        if len(cells) > len(columns):
            raise InvalidInputError(
                f"{location}: {len(cells)} cells but the header has {len(columns)} columns"
            )
        values = {
            column: cell.strip()
            for column, cell in zip(columns, cells, strict=False)
            if column and cell.strip()
        }
        yield location, values


def _json_records(name: str, text: str) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInputError(f"{name}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if isinstance(document, Mapping):
        if set(document) != {"offerings"}:
            raise InvalidInputError(
                f"{name}: expected a list of offerings or an object with only an 'offerings' list"
            )
        document = document["offerings"]
    if not isinstance(document, list):
        raise InvalidInputError(f"{name}: expected a list of offerings")
    for index, item in enumerate(document):
        location = f"{name}: offerings[{index}]"
        if not isinstance(item, Mapping):
            raise InvalidInputError(f"{location}: expected an object of Offering fields")
        yield location, {str(key): value for key, value in item.items() if value is not None}


def _offering(location: str, values: dict[str, Any], default_source: str) -> Offering:
    gpu_label = values.get("gpu_type")
    if isinstance(gpu_label, str):
        try:
            values["gpu_type"] = normalize_gpu_type(gpu_label)
        except InvalidInputError as exc:
            raise InvalidInputError(f"{location}: {exc.message}") from None
    values.setdefault("price_date", date.today())
    values.setdefault("source", default_source)
    return parse_model(Offering, values, context=location)


def parse_offerings_file(
    path: Path, *, currencies: Collection[str] | None = None
) -> list[Offering]:
    """Every offering in a CSV or JSON file, all validated; ``InvalidInputError`` on the first bad
    row (nothing is returned then).

    With ``currencies`` (the codes the exchange-rate table knows), a row priced in any other
    currency is refused: stored, it would make every later comparison fail for want of a rate.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".json"):
        raise InvalidInputError(
            f"{path}: unsupported file type {suffix or '(none)'!r}; use a .csv or .json file"
        )
    text = read_text_file(path, what="offerings file", encoding="utf-8-sig")
    name = path.name
    records = _csv_records(name, text) if suffix == ".csv" else _json_records(name, text)
    offerings: list[Offering] = []
    seen: dict[tuple[str, str, str], str] = {}
    for location, values in records:
        offering = _offering(location, values, f"import:{name}")
        if currencies is not None and offering.currency not in currencies:
            raise InvalidInputError(
                f"{location}: currency: no exchange rate for {offering.currency} (known: "
                f"{', '.join(sorted(currencies))}); add it under [exchange_rates] in the "
                "optimizer config file"
            )
        key = (offering.provider.casefold(), offering.region, offering.instance_type)
        if key in seen:
            raise InvalidInputError(
                f"{location}: offering {offering.offering_id} appears twice (first at {seen[key]})"
            )
        seen[key] = location
        offerings.append(offering)
    if not offerings:
        raise InvalidInputError(f"{name}: no offerings in the file")
    return offerings
