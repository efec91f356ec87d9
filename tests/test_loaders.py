"""File loaders and discovery. Every fixture is a real file built in tmp_path."""

from __future__ import annotations

import json
import os
import shutil
import stat
from pathlib import Path

import docx
import pytest
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.pdfgen import canvas

from cairn.errors import ConfigError, LoadError
from cairn.ingest.file_reading import SUPPORTED_EXTENSIONS, LoadedDocument, LoadOptions
from cairn.ingest.loaders import discover, load

SCIFACT = Path(__file__).resolve().parents[2] / "shared/benchdata/scifact/corpus.jsonl"
IS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0


def load_one(path: Path, options: LoadOptions = LoadOptions()) -> LoadedDocument:
    docs = load(path, options)
    assert len(docs) == 1
    return docs[0]


def load_error(path: Path, options: LoadOptions = LoadOptions()) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load(path, options)
    err = caught.value
    assert "\n" not in err.message
    assert str(path) in err.message  # names the file
    return err


def make_pdf(path: Path, pages: list[str], **kwargs: object) -> Path:
    c = canvas.Canvas(str(path), **kwargs)
    for text in pages:
        if text:
            c.drawString(72, 720, text)
        c.showPage()
    c.save()
    return path


def write_fake_tesseract(folder: Path, script: str) -> None:
    folder.mkdir()
    exe = folder / "tesseract"
    exe.write_text(f"#!/bin/sh\n{script}\n")
    exe.chmod(0o755)


# --------------------------------------------------------------------------- extensions


def test_supported_extensions() -> None:
    assert {
        ".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx", ".csv", ".json",
        ".jsonl", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".gif", ".webp",
        ".wav", ".flac", ".mp3", ".ogg", ".webm", ".m4a",
    } == SUPPORTED_EXTENSIONS  # fmt: skip


def test_every_supported_extension_has_a_loader(tmp_path: Path) -> None:
    for ext in SUPPORTED_EXTENSIONS:
        path = tmp_path / f"empty{ext}"
        path.write_bytes(b"")
        assert load_error(path).code == "empty"  # reached the size check, not "unsupported"


def test_extension_is_case_insensitive(tmp_path: Path) -> None:
    path = tmp_path / "NOTES.TXT"
    path.write_text("Upper-case extension.")
    assert load_one(path).text == "Upper-case extension."


# --------------------------------------------------------------------------- text, markdown


def test_txt_as_is_with_newlines_normalised(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(b"\xef\xbb\xbfline one\r\nline two\rline three\n\n  indented\n")
    doc = load_one(path)
    assert doc.text == "line one\nline two\nline three\n\n  indented\n"
    assert doc.title == "notes"
    assert doc.doc_key is None
    assert doc.metadata == {"format": "txt"}


def test_markdown_keeps_raw_text_and_takes_first_h1(tmp_path: Path) -> None:
    raw = "Intro line\n\n```python\n# not a title\n```\n\n## Sub\n\n# Real Title #\n\nBody *text*."
    path = tmp_path / "doc.md"
    path.write_text(raw)
    doc = load_one(path)
    assert doc.text == raw
    assert doc.title == "Real Title"
    assert doc.metadata == {"format": "markdown"}


def test_markdown_without_heading_uses_stem(tmp_path: Path) -> None:
    path = tmp_path / "plain notes.markdown"
    path.write_text("## only a level two\n\n#hashtag is not a heading\n")
    assert load_one(path).title == "plain notes"


def test_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Café crème\r\n".encode("latin-1"))
    assert load_one(path, LoadOptions(encoding="latin-1")).text == "Café crème\n"


def test_explicit_utf16_encoding(tmp_path: Path) -> None:
    path = tmp_path / "wide.txt"
    path.write_bytes("Zürich".encode("utf-16"))  # with a BOM, NUL bytes in between
    assert load_error(path).code == "encoding"
    assert "--encoding utf-16" in load_error(path).message
    assert load_one(path, LoadOptions(encoding="utf-16")).text == "Zürich"


# --------------------------------------------------------------------------- HTML

HTML = """<!doctype html>
<html><head><title>  My
  page </title><style>p { color: red }</style><script>var head = 1;</script></head>
<body><script>var x = "hidden";</script><h1>Heading  one</h1>
<p>First   para
continues here.</p>
<p>Second &amp; last.<br>After break.</p>
<ul>
  <li>one</li>
  <li>two <b>bold</b></li>
</ul>
<table><tr><th>Name</th><th>Age</th></tr><tr><td>Ada</td><td> 36 </td></tr></table>
<noscript>enable js</noscript><template><p>tpl</p></template><!-- a comment -->
<div>outer<div>inner</div>tail</div>
</body></html>"""


def test_html_text_and_title(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML)
    doc = load_one(path)
    assert doc.title == "My page"
    assert doc.text == (
        "Heading one\n\n"
        "First para continues here.\n\n"
        "Second & last.\nAfter break.\n\n"
        "one\ntwo bold\n\n"
        "Name | Age\nAda | 36\n\n"
        "outer\n\ninner\n\ntail"
    )
    assert doc.metadata == {"format": "html"}


def test_html_title_falls_back_to_h1_then_stem(tmp_path: Path) -> None:
    path = tmp_path / "a.htm"
    path.write_text("<html><body><h1>The  H1</h1><p>text</p></body></html>")
    assert load_one(path).title == "The H1"
    path.write_text("<p>just text</p>")
    assert load_one(path).title == "a"


def test_html_without_visible_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.html"
    path.write_text("<html><head><title>T</title></head><body><script>x()</script></body></html>")
    assert load_error(path).code == "no-text"


def test_html_deep_nesting_does_not_recurse(tmp_path: Path) -> None:
    path = tmp_path / "deep.html"
    path.write_text("<span>" * 5000 + "deep" + "</span>" * 5000)
    assert load_one(path).text == "deep"


# --------------------------------------------------------------------------- PDF


def test_pdf_pages_and_offsets(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "report.pdf", ["Hello page one.", "", "Third page text."])
    doc = load_one(path)
    assert doc.text == "Hello page one.\n\n\n\nThird page text."
    assert doc.metadata == {"format": "pdf", "pages": "3", "page_starts": "0,17,19"}
    starts = [int(s) for s in doc.metadata["page_starts"].split(",")]
    assert doc.text[starts[2] :] == "Third page text."
    assert doc.title == "report"  # reportlab's default title "untitled" is ignored


def test_pdf_title_from_metadata(tmp_path: Path) -> None:
    path = tmp_path / "x.pdf"
    c = canvas.Canvas(str(path))
    c.setTitle("Annual Report")
    c.drawString(72, 720, "Body")
    c.showPage()
    c.save()
    assert load_one(path).title == "Annual Report"


def test_pdf_without_text(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "scan.pdf", ["", ""])
    err = load_error(path)
    assert err.code == "no-text"
    assert err.message == (
        f"{path}: no extractable text (scanned PDF? OCR of PDFs is not supported yet)"
    )


@pytest.mark.parametrize("junk", [b"not a pdf at all", b"%PDF-1.4\n1 0 obj garbage"])
def test_broken_pdf(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(junk)
    assert load_error(path).code == "bad-pdf"


def test_encrypted_pdf(tmp_path: Path) -> None:
    locked = make_pdf(
        tmp_path / "locked.pdf", ["Secret"], encrypt=StandardEncryption("pw", canPrint=0)
    )
    err = load_error(locked)
    assert err.code == "bad-pdf"
    assert "encrypted" in err.message
    # Only an owner password: readable with the empty user password.
    open_pdf = make_pdf(
        tmp_path / "open.pdf", ["Readable"], encrypt=StandardEncryption("", ownerPassword="o")
    )
    assert load_one(open_pdf).text == "Readable"


# --------------------------------------------------------------------------- DOCX


def test_docx_paragraphs_tables_and_heading_title(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_heading("Quarterly notes", level=1)
    d.add_paragraph("First paragraph.")
    d.add_paragraph("   ")
    table = d.add_table(rows=3, cols=3)
    for cell, text in zip(table.rows[0].cells, ["Name", "Role", "Team"], strict=True):
        cell.text = text
    table.cell(1, 0).text = "Ada"
    table.cell(1, 1).merge(table.cell(1, 2)).text = "Engineer"
    d.add_paragraph("After the table.")
    path = tmp_path / "notes.docx"
    d.save(str(path))
    doc = load_one(path)
    assert doc.text == (
        "Quarterly notes\n\nFirst paragraph.\n\nName | Role | Team\n\nAda | Engineer\n\n"
        "After the table."
    )
    assert doc.title == "Quarterly notes"
    assert doc.metadata == {"format": "docx"}


def test_docx_title_from_core_properties_then_stem(tmp_path: Path) -> None:
    d = docx.Document()
    d.add_paragraph("Body only.")
    path = tmp_path / "memo.docx"
    d.save(str(path))
    assert load_one(path).title == "memo"
    d.core_properties.title = "Official Title"
    d.save(str(path))
    assert load_one(path).title == "Official Title"


def test_docx_without_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.docx"
    docx.Document().save(str(path))
    assert load_error(path).code == "no-text"


@pytest.mark.parametrize("junk", [b"hello, not a zip", b"PK\x03\x04truncated zip"])
def test_broken_docx(tmp_path: Path, junk: bytes) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(junk)
    assert load_error(path).code == "bad-docx"


# --------------------------------------------------------------------------- CSV


def test_csv_rows_as_prose(tmp_path: Path) -> None:
    path = tmp_path / "people.csv"
    path.write_text('name,city,note\nAda,London,\n\n"Turing, Alan",,"likes ""quotes"""\n')
    doc = load_one(path)
    assert doc.text == 'name: Ada; city: London\nname: Turing, Alan; note: likes "quotes"'
    assert doc.metadata == {"format": "csv", "rows": "2"}
    assert doc.title == "people"


def test_csv_sniffs_semicolons_and_names_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "semi.csv"
    path.write_text("a;b\n1;2\n3;4;5\n")
    doc = load_one(path)
    assert doc.text == "a: 1; b: 2\na: 3; b: 4; column 3: 5"
    assert doc.metadata["rows"] == "2"


def test_csv_single_column_falls_back_to_excel(tmp_path: Path) -> None:
    path = tmp_path / "one.csv"
    path.write_text("word\nalpha\nbeta\n")
    assert load_one(path).text == "word: alpha\nword: beta"


def test_csv_header_only_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "header.csv"
    path.write_text("a,b,c\n")
    assert load_error(path).code == "empty"


# --------------------------------------------------------------------------- JSON


def test_json_list_of_records(tmp_path: Path) -> None:
    records = [
        {"id": 7, "title": "Seven", "text": "Line one\r\nline two"},
        {"_id": "a1", "id": 9, "text": "underscore id wins"},
        {"title": "No key", "text": "keyless"},
        {"id": 3, "text": "   "},  # empty text: skipped
        {"name": "Ada", "born": 1815, "tags": ["x"], "active": True, "note": None},
    ]
    path = tmp_path / "records.json"
    path.write_text(json.dumps(records))
    docs = load(path)
    assert [(d.doc_key, d.title, d.text) for d in docs] == [
        ("7", "Seven", "Line one\nline two"),
        ("a1", None, "underscore id wins"),
        (None, "No key", "keyless"),
        (None, None, "name: Ada\nborn: 1815"),
    ]
    assert docs[0].metadata == {"format": "json", "index": "0"}
    assert docs[3].metadata == {"format": "json", "index": "4"}


def test_json_single_object(tmp_path: Path) -> None:
    path = tmp_path / "one.json"
    path.write_text(json.dumps({"id": "k", "title": "T", "summary": "Short.", "pages": 3}))
    doc = load_one(path)
    assert (doc.doc_key, doc.title, doc.text) == ("k", "T", "title: T\nsummary: Short.\npages: 3")


def test_json_syntax_error_says_where(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('[\n  {"text": "ok"},\n  {"text": oops}\n]')
    err = load_error(path)
    assert err.code == "bad-json"
    assert err.message == f"{path}: line 3 column 12: Expecting value"


def test_json_wrong_shapes(tmp_path: Path) -> None:
    path = tmp_path / "shape.json"
    path.write_text('"just a string"')
    assert load_error(path).message == (
        f"{path}: the file holds a string; expected an object or a list of objects"
    )
    path.write_text('[{"text": "ok"}, 5]')
    assert load_error(path).message == (
        f"{path}: item 1 is a number; expected an object or a list of objects"
    )


def test_json_file_holding_json_lines(tmp_path: Path) -> None:
    path = tmp_path / "lines.json"
    path.write_text('{"id": 1, "text": "a"}\n{"id": 2, "text": "b"}\n')
    assert [(d.doc_key, d.text) for d in load(path)] == [("1", "a"), ("2", "b")]


def test_beir_corpus_jsonl(tmp_path: Path) -> None:
    lines = [
        {"_id": "4983", "title": "Microstructure", "text": "White matter.", "metadata": {}},
        {"_id": "5836", "title": "", "text": "Second abstract.", "metadata": {"x": 1}},
    ]
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n")
    docs = load(path)
    assert [(d.doc_key, d.title, d.text) for d in docs] == [
        ("4983", "Microstructure", "White matter."),
        ("5836", None, "Second abstract."),
    ]
    assert docs[0].metadata == {"format": "jsonl", "line": "1"}
    assert docs[1].metadata == {"format": "jsonl", "line": "2"}


def test_jsonl_some_bad_lines_are_reported_not_fatal(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": 1, "text": "one"}\n'
        "\n"
        "{not json\n"
        '{"id": 2, "text": "two"}\n'
        "[1, 2]\n"
        '{"id": 3, "text": "three"}\n'
    )
    docs = load(path)
    assert [d.text for d in docs] == ["one", "two", "three"]
    assert docs[0].metadata == {"format": "jsonl", "line": "1", "skipped_lines": "3,5"}
    assert "skipped_lines" not in docs[1].metadata


def test_jsonl_all_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('\n{"a": 1,}\n"str"\n')
    err = load_error(path)
    assert err.code == "bad-json"
    assert err.message == (
        f"{path}: line 2: Expecting property name enclosed in double quotes at column 9 "
        "(and 1 more bad lines)"
    )


def test_jsonl_records_without_text_give_no_documents(tmp_path: Path) -> None:
    path = tmp_path / "empty-records.jsonl"
    path.write_text('{"_id": "1", "text": ""}\n{"_id": "2", "tags": []}\n')
    assert load(path) == []


@pytest.mark.skipif(not SCIFACT.exists(), reason="SciFact corpus not present")
def test_scifact_corpus_loads_whole() -> None:
    # Its speed is a benchmark matter (the machines are noisy), not a timed test.
    docs = load(SCIFACT)
    assert len(docs) == 5183
    assert docs[0].doc_key == "4983"
    assert docs[0].title is not None and docs[0].title.startswith("Microstructural development")


# --------------------------------------------------------------------------- images


def test_image_without_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "nowhere"))
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    err = load_error(path)
    assert err.code == "ocr-unavailable"
    assert err.message == (
        f"{path}: is an image, and OCR needs tesseract: "
        "apt-get install tesseract-ocr tesseract-ocr-eng"
    )


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_image_with_stub_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bin_dir = tmp_path / "bin"
    # Echo the arguments so the test sees how tesseract was called.
    write_fake_tesseract(bin_dir, 'printf "Read: %s\\n\\n%s\\f" "$1" "$2"')
    monkeypatch.setenv("PATH", str(bin_dir))
    path = tmp_path / "photo é.JPG"
    path.write_bytes(b"\xff\xd8\xff fake jpeg")
    doc = load_one(path)
    assert doc.text == f"Read: {path}\n\nstdout"
    assert doc.title == "photo é"
    assert doc.metadata == {"format": "image", "ocr": "tesseract"}


@pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")
def test_image_ocr_failure_and_no_text(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n fake")
    write_fake_tesseract(tmp_path / "fail", 'echo "Error: cannot read image" >&2; exit 1')
    monkeypatch.setenv("PATH", str(tmp_path / "fail"))
    err = load_error(path)
    assert (err.code, err.message) == (
        "ocr-failed",
        f"{path}: tesseract failed: Error: cannot read image",
    )
    write_fake_tesseract(tmp_path / "blank", 'printf "  \\n\\f"')
    monkeypatch.setenv("PATH", str(tmp_path / "blank"))
    assert load_error(path).code == "no-text"


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract is not installed")
def test_image_with_real_tesseract(tmp_path: Path) -> None:
    image_mod = pytest.importorskip("PIL.Image")
    draw_mod = pytest.importorskip("PIL.ImageDraw")
    font_mod = pytest.importorskip("PIL.ImageFont")
    image = image_mod.new("RGB", (900, 200), "white")
    font = font_mod.load_default(size=48)
    draw_mod.Draw(image).text((30, 60), "HELLO CAIRN 2024", fill="black", font=font)
    path = tmp_path / "sign.png"
    image.save(path)
    doc = load_one(path)
    assert "HELLO CAIRN 2024" in doc.text


# --------------------------------------------------------------------------- bad input


def test_empty_and_whitespace_only(tmp_path: Path) -> None:
    path = tmp_path / "empty.txt"
    path.write_bytes(b"")
    assert load_error(path).message == f"{path}: file is empty"
    path.write_bytes(b" \n\t\r\n")
    assert load_error(path).code == "empty"
    path = tmp_path / "empty.jsonl"
    path.write_bytes(b"\n\n")
    assert load_error(path).code == "empty"


@pytest.mark.parametrize(
    "junk",
    [
        b"PK\x03\x04\x00\x00binary zip-like header",
        bytes(range(1, 32)) * 10 + b"some text",
        bytes(range(256)) * 4,
    ],
)
def test_binary_with_text_extension(tmp_path: Path, junk: bytes) -> None:
    for name in ("junk.txt", "junk.json", "junk.csv", "junk.html"):
        path = tmp_path / name
        path.write_bytes(junk)
        assert load_error(path).code == "binary"


def test_a_few_control_characters_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "log.txt"
    path.write_text("\x1b[1mbold\x1b[0m and a bell\x07 in a long enough line of text")
    assert load_one(path).text.startswith("\x1b[1mbold")


def test_invalid_utf8_says_where(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes(b"\xef\xbb\xbfok line\nCaf\xe9\n")
    err = load_error(path)
    assert err.code == "encoding"
    assert err.message == (
        f"{path}: not valid UTF-8 at byte 14 (line 2); "
        "if the file uses another encoding, name it, e.g. --encoding latin-1"
    )


def test_invalid_in_explicit_encoding(tmp_path: Path) -> None:
    path = tmp_path / "ascii.txt"
    path.write_bytes(b"abc\n\xff")
    err = load_error(path, LoadOptions(encoding="ascii"))
    assert err.message == f"{path}: not valid ascii at byte 4 (line 2)"


def test_too_large_is_refused_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "big.txt"
    path.write_text("x" * 101)

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the file was opened")

    monkeypatch.setattr(Path, "open", no_reading)
    err = load_error(path, LoadOptions(max_bytes=100))
    assert err.code == "too-large"
    assert err.message == f"{path}: 101 bytes is over the limit of 100 bytes"


def test_too_large_default_limit_with_sparse_file(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as f:
        f.truncate(100 * 1024 * 1024 + 1)
    assert load_error(path).code == "too-large"


def test_exactly_max_bytes_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "edge.txt"
    path.write_text("x" * 100)
    assert load_one(path, LoadOptions(max_bytes=100)).text == "x" * 100


def test_unreadable_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden")

    def denied(*args: object, **kwargs: object) -> None:
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(Path, "open", denied)
    err = load_error(path)
    assert (err.code, err.message) == ("unreadable", f"{path}: permission denied")


@pytest.mark.skipif(IS_ROOT, reason="root can read files whatever their mode")
def test_unreadable_file_by_mode(tmp_path: Path) -> None:
    path = tmp_path / "secret.md"
    path.write_text("hidden")
    path.chmod(0)
    try:
        assert load_error(path).code == "unreadable"
        files, errors = discover([path])
        assert files == []
        assert [e.code for e in errors] == ["unreadable"]
    finally:
        path.chmod(stat.S_IRUSR | stat.S_IWUSR)


def test_missing_folder_and_unsupported(tmp_path: Path) -> None:
    assert load_error(tmp_path / "missing.txt").code == "not-found"
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    assert load_error(folder).message == f"{folder}: is a folder, not a file"
    other = tmp_path / "data.xlsx"
    other.write_bytes(b"x")
    err = load_error(other)
    assert err.code == "unsupported-format"
    assert err.message.startswith(f"{other}: unsupported file type .xlsx; supported: .bmp ")


def test_newline_in_file_name_keeps_message_on_one_line(tmp_path: Path) -> None:
    path = tmp_path / "two\nlines.txt"
    path.write_bytes(b"")
    with pytest.raises(LoadError) as caught:
        load(path)
    assert caught.value.message == f"{tmp_path}/two\\nlines.txt: file is empty"


def test_load_options_are_validated() -> None:
    with pytest.raises(ConfigError) as caught:
        LoadOptions(encoding="no-such-codec")
    assert caught.value.code == "bad-encoding"
    with pytest.raises(ConfigError):
        LoadOptions(max_bytes=0)


def test_spaces_and_non_ascii_paths(tmp_path: Path) -> None:
    folder = tmp_path / "mes documents été"
    folder.mkdir()
    txt = folder / "naïve notes 東京.txt"
    txt.write_text("Ünïcode body")
    pdf = make_pdf(folder / "rapport annuel.pdf", ["Bonjour"])
    d = docx.Document()
    d.add_paragraph("Grüße")
    docx_path = folder / "brief für dich.docx"
    d.save(str(docx_path))
    assert load_one(txt).text == "Ünïcode body"
    assert load_one(txt).title == "naïve notes 東京"
    assert load_one(pdf).text == "Bonjour"
    assert load_one(docx_path).text == "Grüße"
    files, errors = discover([folder])
    assert errors == []
    assert files == [docx_path, txt, pdf]


# --------------------------------------------------------------------------- discover


def make_tree(root: Path) -> None:
    (root / "b").mkdir(parents=True)
    (root / "a" / "deep").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".hidden").mkdir()
    for rel in [
        "z.txt",
        "m.md",
        "skip.xyz",
        ".dotfile.txt",
        "a/one.json",
        "a/deep/two.csv",
        "a/deep/Photo.PNG",
        "b/three.html",
        ".git/config.txt",
        ".hidden/inner.md",
    ]:
        (root / rel).write_text("content")


def test_discover_walks_sorted_and_skips_hidden(tmp_path: Path) -> None:
    make_tree(tmp_path / "kb")
    files, errors = discover([tmp_path / "kb"])
    assert errors == []
    root = (tmp_path / "kb").resolve()
    assert files == [
        root / "m.md",
        root / "z.txt",
        root / "a" / "one.json",
        root / "a" / "deep" / "Photo.PNG",
        root / "a" / "deep" / "two.csv",
        root / "b" / "three.html",
    ]
    assert all(p.is_absolute() for p in files)


def test_discover_explicit_files(tmp_path: Path) -> None:
    make_tree(tmp_path)
    files, errors = discover(
        [tmp_path / "skip.xyz", tmp_path / ".dotfile.txt", tmp_path / "missing.md"]
    )
    assert files == [tmp_path.resolve() / ".dotfile.txt"]  # named explicitly: kept
    assert [e.code for e in errors] == ["unsupported-format", "not-found"]
    assert errors[0].message.startswith(f"{tmp_path / 'skip.xyz'}: unsupported file type .xyz")
    assert errors[1].message == f"{tmp_path / 'missing.md'}: no such file or folder"


def test_discover_lists_duplicates_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    make_tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    files, errors = discover(["z.txt", tmp_path / "z.txt", "./a/../z.txt", ".", "b"])
    assert errors == []
    root = tmp_path.resolve()
    assert files[0] == root / "z.txt"
    assert files.count(root / "z.txt") == 1
    assert files.count(root / "b" / "three.html") == 1
    assert len(files) == 6


def test_discover_resolves_symlinks(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("x")
    (tmp_path / "link.txt").symlink_to(tmp_path / "real.txt")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    files, errors = discover([tmp_path])
    assert files == [(tmp_path / "real.txt").resolve()]
    assert errors == []


def test_discover_empty_input() -> None:
    assert discover([]) == ([], [])
