"""``parse_offerings_file``: CSV and JSON imports, and the line-numbered errors of bad files."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from artenic_opt.catalog import load_catalog, parse_offerings_file
from artenic_opt.errors import InvalidInputError

HEADER = (
    "provider,region,instance_type,vcpus,memory_gb,gpu_type,gpu_count,gpu_memory_gb,"
    "price_per_hour,spot_price_per_hour,currency,source,price_date"
)


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_good_file(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "mine.csv",
        "\n".join(
            [
                HEADER,
                "OnPrem,lab-1,dgx-a,128,1024,a100-80gb,8,80,12.5,,EUR,contract 42,2026-05-01",
                "OnPrem,lab-1,cpu-box,32,256,,,,0.4,,EUR,,",
                "",
                "AWS,us-east-1,p5.48xlarge,192,2048,H100,8,80,40,,USD,negotiated,2026-06-01",
            ]
        )
        + "\n",
    )
    rows = parse_offerings_file(path)
    assert len(rows) == 3
    gpu, cpu, aws = rows
    assert gpu.gpu_type == "A100 80GB"
    assert gpu.currency == "EUR"
    assert gpu.spot_price_per_hour is None
    assert gpu.price_date == date(2026, 5, 1)
    assert cpu.gpu_type is None and cpu.gpu_count == 0
    assert cpu.source == "import:mine.csv"
    assert cpu.price_date == date.today()
    assert aws.gpu_type == "H100 SXM"
    merged = load_catalog(extra=rows)
    replaced = [
        o
        for o in merged.offerings
        if (o.provider, o.region, o.instance_type) == ("AWS", "us-east-1", "p5.48xlarge")
    ]
    assert [o.price_per_hour for o in replaced] == [40.0]


def test_csv_with_only_some_columns_and_bom(tmp_path: Path) -> None:
    path = tmp_path / "short.csv"
    path.write_text(
        "\ufeffprovider,region,instance_type,price_per_hour\nHome,garage,nuc,0.05\n",
        encoding="utf-8",
    )
    (row,) = parse_offerings_file(path)
    assert row.provider == "Home" and row.currency == "USD" and row.gpu_count == 0


@pytest.mark.parametrize(
    ("line", "pattern"),
    [
        ("OnPrem,lab,box,8,32,,,,-1,,USD,,", r"bad\.csv:3: price_per_hour: "),
        ("OnPrem,lab,box,8,32,,,,abc,,USD,,", r"bad\.csv:3: price_per_hour: "),
        ("OnPrem,lab,box,8,32,,,,1,,usd,,", r"bad\.csv:3: currency: "),
        ("OnPrem,lab,box,8,32,,4,,1,,USD,,", r"bad\.csv:3: gpu_type: required"),
        ("OnPrem,lab,box,8,32,Voodoo,1,,1,,USD,,", r"bad\.csv:3: gpu_type: unknown GPU type"),
        ("OnPrem,lab,box,8,32,,,,1,,USD,,2026-13-01", r"bad\.csv:3: price_date: "),
        (",lab,box,8,32,,,,1,,USD,,", r"bad\.csv:3: provider: "),
        ("OnPrem,lab,box,8,32,,,,1,,USD,,,extra", r"bad\.csv:3: 14 cells"),
        ("OnPrem,lab,box-1,8,32,,,,1,,USD,,", r"bad\.csv:3: offering OnPrem/lab/box-1 appears"),
    ],
)
def test_csv_bad_row_names_line_and_field(tmp_path: Path, line: str, pattern: str) -> None:
    good = "OnPrem,lab,box-1,8,32,,,,1,,USD,,"
    path = write(tmp_path, "bad.csv", f"{HEADER}\n{good}\n{line}\n{good.replace('-1', '-2')}\n")
    with pytest.raises(InvalidInputError, match=pattern):
        parse_offerings_file(path)


def test_unknown_gpu_message_lists_allowed_values(tmp_path: Path) -> None:
    path = write(tmp_path, "gpu.csv", f"{HEADER}\nA,b,c,1,1,RTX 9999,1,24,1,,USD,,\n")
    with pytest.raises(InvalidInputError) as err:
        parse_offerings_file(path)
    assert "gpu.csv:2: gpu_type: unknown GPU type 'RTX 9999'" in err.value.message
    assert "H100 SXM" in err.value.message and "MI300X" in err.value.message


def test_csv_line_number_after_a_multiline_cell(tmp_path: Path) -> None:
    text = (
        f"{HEADER}\n"
        'OnPrem,lab,a,8,32,,,,1,,USD,"two\nline source",\n'
        "OnPrem,lab,b,8,32,,,,0,,USD,,\n"
    )
    with pytest.raises(InvalidInputError, match=r"ml\.csv:4: price_per_hour"):
        parse_offerings_file(write(tmp_path, "ml.csv", text))


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("", r"empty\.csv: empty file"),
        (f"{HEADER}\n", r"empty\.csv: no offerings"),
        ("provider,colour\nA,red\n", r"empty\.csv:1: unknown column 'colour'"),
        ("provider,provider\nA,B\n", r"empty\.csv:1: a column name appears twice"),
    ],
)
def test_csv_structural_errors(tmp_path: Path, text: str, pattern: str) -> None:
    with pytest.raises(InvalidInputError, match=pattern):
        parse_offerings_file(write(tmp_path, "empty.csv", text))


def test_json_list_and_wrapped_forms(tmp_path: Path) -> None:
    items = [
        {
            "provider": "OnPrem",
            "region": "lab",
            "instance_type": "mi-box",
            "gpu_type": "AMD Instinct MI300X",
            "gpu_count": 8,
            "price_per_hour": 20,
            "spot_price_per_hour": None,
        },
        {"provider": "OnPrem", "region": "lab", "instance_type": "cpu", "price_per_hour": 0.3},
    ]
    for name, document in (("list.json", items), ("wrapped.json", {"offerings": items})):
        rows = parse_offerings_file(write(tmp_path, name, json.dumps(document)))
        assert [o.instance_type for o in rows] == ["mi-box", "cpu"]
        assert rows[0].gpu_type == "MI300X"
        assert rows[0].source == f"import:{name}"


@pytest.mark.parametrize(
    ("document", "pattern"),
    [
        ('[{"provider": "A"', r"j\.json:1: not valid JSON"),
        ('{"rows": []}', r"j\.json: expected a list of offerings or an object"),
        ('"text"', r"j\.json: expected a list of offerings"),
        ("[1]", r"j\.json: offerings\[0\]: expected an object"),
        (
            '[{"provider": "A", "region": "r", "instance_type": "i", "price_per_hour": 1},'
            ' {"provider": "A", "region": "r", "instance_type": "j", "price_per_hour": 0}]',
            r"j\.json: offerings\[1\]: price_per_hour: ",
        ),
        (
            '[{"provider": "A", "region": "r", "instance_type": "i", "price_per_hour": 1,'
            ' "colour": "red"}]',
            r"j\.json: offerings\[0\]: colour: ",
        ),
        ("[]", r"j\.json: no offerings"),
    ],
)
def test_json_errors(tmp_path: Path, document: str, pattern: str) -> None:
    with pytest.raises(InvalidInputError, match=pattern):
        parse_offerings_file(write(tmp_path, "j.json", document))


def test_file_level_errors(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match=r"unsupported file type '\.txt'"):
        parse_offerings_file(write(tmp_path, "a.txt", "x"))
    with pytest.raises(InvalidInputError, match="offerings file not found"):
        parse_offerings_file(tmp_path / "missing.csv")
    folder = tmp_path / "dir.csv"
    folder.mkdir()
    with pytest.raises(InvalidInputError, match="is a directory"):
        parse_offerings_file(folder)
    binary = tmp_path / "bin.csv"
    binary.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(InvalidInputError, match="not UTF-8"):
        parse_offerings_file(binary)


def test_oversized_csv_field_is_reported(tmp_path: Path) -> None:
    huge = "x" * 200_000
    with pytest.raises(InvalidInputError, match=r"big\.csv:1: not valid CSV"):
        parse_offerings_file(write(tmp_path, "big.csv", f"provider{huge}\n"))
    text = f"{HEADER}\nOnPrem,lab,a,8,32,,,,1,,USD,,\nOnPrem,lab,b,8,32,,,,1,,USD,{huge},\n"
    with pytest.raises(InvalidInputError, match=r"big\.csv:3: not valid CSV"):
        parse_offerings_file(write(tmp_path, "big.csv", text))


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, "locked.csv", HEADER)

    def refuse(self: Path, *args: object, **kwargs: object) -> object:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", refuse)  # as root, chmod 0 would not stop the read
    with pytest.raises(
        InvalidInputError, match=r"locked\.csv: cannot read offerings file \(Permission denied\)"
    ):
        parse_offerings_file(path)
