"""Charts: PNG and SVG files that open, carry their title and caption, and clear errors."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

import cairn.charts
from cairn.charts import ChartError, render_chart, suggest_chart
from cairn.errors import CairnError

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
SVG_NS = "{http://www.w3.org/2000/svg}"

BY_YEAR = [{"year": 2019, "papers": 3}, {"year": 2020, "papers": 5}, {"year": 2021, "papers": 9}]
BY_LICENCE = [
    {"licence": "CC-BY-4.0", "sources": 5, "documents": 7},
    {"licence": "MIT", "sources": 2, "documents": 2},
    {"licence": "CC0-1.0", "sources": 1, "documents": 4},
]
CAPTION = "Sources: [1] normans.md (CC-BY-SA-4.0); [2] steam-engine.md (CC-BY-SA-4.0)"


def _svg_text(path: Path) -> str:
    root = ET.parse(path).getroot()  # well-formed XML, or this raises
    assert root.tag == f"{SVG_NS}svg"
    return " ".join(t for el in root.iter(f"{SVG_NS}text") for t in el.itertext())


def _check_files(paths: list[Path], title: str, caption: str | None = None) -> None:
    png, svg = paths
    assert png.suffix == ".png" and svg.suffix == ".svg"
    data = png.read_bytes()
    assert data.startswith(PNG_MAGIC) and len(data) > 2000
    text = _svg_text(svg)
    assert title in text
    if caption:
        assert caption.split(";")[0] in " ".join(text.split())


def test_exported_names() -> None:
    assert sorted(cairn.charts.__all__) == sorted(
        ["CHART_KINDS", "ChartError", "ChartKind", "render_chart", "suggest_chart"]
    )
    assert issubclass(ChartError, CairnError)


@pytest.mark.parametrize("kind", ["bar", "line", "pie", "scatter"])
def test_every_kind_writes_png_and_svg(tmp_path: Path, kind: Any) -> None:
    data: Any = BY_YEAR if kind != "pie" else (["CC-BY-4.0", "MIT", "CC0-1.0"], [5, 2, 1])
    paths = render_chart(
        data, kind=kind, title=f"A {kind} chart", caption=CAPTION, out=tmp_path / "c" / kind
    )
    assert paths == [tmp_path / "c" / f"{kind}.png", tmp_path / "c" / f"{kind}.svg"]
    _check_files(paths, f"A {kind} chart", CAPTION)


def test_labels_series_and_several_columns(tmp_path: Path) -> None:
    paths = render_chart(
        BY_LICENCE,
        kind="bar",
        title="Sources and documents by licence",
        x_label="Licence",
        y_label="Count",
        caption="From the local knowledge base",
        out=tmp_path / "by-licence.png",
    )
    assert [p.name for p in paths] == ["by-licence.png", "by-licence.svg"]
    text = _svg_text(paths[1])
    for expected in ("Licence", "Count", "MIT", "sources", "documents", "local knowledge base"):
        assert expected in text


def test_folder_out_names_the_files_after_the_title(tmp_path: Path) -> None:
    paths = render_chart(BY_YEAR, kind="line", title="Papers per year!", out=tmp_path)
    assert [p.name for p in paths] == ["papers-per-year.png", "papers-per-year.svg"]


def test_svg_only_and_reproducible(tmp_path: Path) -> None:
    a = render_chart(BY_YEAR, title="Same", out=tmp_path / "a", formats=("svg",))
    b = render_chart(BY_YEAR, title="Same", out=tmp_path / "b", formats=("svg",))
    assert [p.suffix for p in a] == [".svg"]
    assert a[0].read_bytes() == b[0].read_bytes()


def test_kind_none_uses_the_suggestion(tmp_path: Path) -> None:
    paths = render_chart(BY_YEAR, kind=None, title="Suggested", out=tmp_path / "s")
    _check_files(paths, "Suggested")


def test_non_latin_title_renders_without_warnings(tmp_path: Path) -> None:
    paths = render_chart(BY_YEAR, title="Niederschlag 東京", out=tmp_path / "t")
    assert "東京" in _svg_text(paths[1])


@pytest.mark.parametrize(
    ("rows", "kind"),
    [
        (BY_YEAR, "line"),
        ([{"month": "2019-01", "mm": 3}, {"month": "2019-02", "mm": 4}], "line"),
        (BY_LICENCE, "bar"),
        ((["a", "b"], [1, 2]), "bar"),
        ([{"altitude": 100.5, "temp": 12.0}, {"altitude": 900.0, "temp": 7.5}], "scatter"),
        ([{"licence": "MIT", "share": 0.25}, {"licence": "CC0", "share": 0.75}], "pie"),
        ([{"licence": "MIT", "share": -1}, {"licence": "CC0", "share": 2}], "bar"),
        ([{"name": "a"}, {"name": "b"}], None),
        ([], None),
    ],
)
def test_suggest_chart(rows: Any, kind: str | None) -> None:
    assert suggest_chart(rows) == kind


@pytest.mark.parametrize(
    ("data", "kind", "code"),
    [
        ([], "bar", "empty-data"),
        (([], []), "bar", "empty-data"),
        ([{}], "bar", "empty-data"),
        ([{"name": "a", "value": "many"}], "bar", "non-numeric"),
        ([{"name": "a"}, {"name": "b"}], "bar", "non-numeric"),
        ((["a", "b"], [1, "two"]), "bar", "non-numeric"),
        ((["a", "b"], [1, float("nan")]), "line", "non-numeric"),
        ((["a", "b"], [True, False]), "bar", "non-numeric"),
        ((["a", "b"], [1]), "bar", "bad-data"),
        ([{"x": "a", "y": 1}, {"x": "b", "z": 2}], "bar", "bad-data"),
        ((["a", "b"], [1, -2]), "pie", "bad-data"),
        ((["a", "b"], [1, 2]), "scatter", "non-numeric"),
        (BY_LICENCE, "pie", "bad-data"),
        (BY_YEAR, "donut", "bad-kind"),
        (["not a row"], "bar", "bad-data"),
    ],
)
def test_errors(tmp_path: Path, data: Any, kind: Any, code: str) -> None:
    with pytest.raises(ChartError) as info:
        render_chart(data, kind=kind, title="T", out=tmp_path / "x")
    assert info.value.code == code
    assert not list(tmp_path.iterdir())


def test_bad_columns_and_arguments(tmp_path: Path) -> None:
    with pytest.raises(ChartError, match="No column 'nope'"):
        render_chart(BY_YEAR, x="nope", title="T", out=tmp_path / "x")
    with pytest.raises(ChartError, match="No column"):
        render_chart(BY_YEAR, y=["nope"], title="T", out=tmp_path / "x")
    with pytest.raises(ChartError) as info:
        render_chart(BY_YEAR, title="  ", out=tmp_path / "x")
    assert info.value.code == "no-title"
    with pytest.raises(ChartError) as info:
        render_chart(BY_YEAR, title="T", out=tmp_path / "x", formats=("gif",))
    assert info.value.code == "bad-format"


def test_unwritable_target(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ChartError) as info:
        render_chart(BY_YEAR, title="T", out=blocker / "sub" / "chart")
    assert info.value.code == "write-failed"


def test_missing_matplotlib_gives_an_install_hint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ChartError) as info:
        render_chart(BY_YEAR, title="T", out=tmp_path / "x")
    assert info.value.code == "missing-dependency"
    assert "pip install" in info.value.message
    assert suggest_chart(BY_YEAR) == "line"  # needs no matplotlib
