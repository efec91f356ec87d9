import pytest

from cairn.errors import ConfigError
from cairn.ingest.provenance import make_provenance, normalise_license
from cairn.kb.types import Consent


def test_spdx_ids_are_normalised() -> None:
    assert normalise_license("cc-by-sa-4.0") == "CC-BY-SA-4.0"
    assert normalise_license("MIT OR Apache-2.0") == "MIT OR Apache-2.0"
    assert normalise_license("LicenseRef-Internal") == "LicenseRef-Internal"
    assert normalise_license(None) is None
    assert normalise_license("  ") is None


def test_unknown_spdx_id_names_the_argument_and_the_id() -> None:
    with pytest.raises(ConfigError) as err:
        normalise_license("Foo-1.0")
    assert err.value.code == "unknown-license"
    assert "--license 'Foo-1.0'" in err.value.message and "Foo-1.0" in err.value.message


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"consent": "maybe"}, "bad-consent"),
        ({"collection": ""}, "bad-collection"),
        ({"collection": "../etc"}, "bad-collection"),
        ({"source_url": "not a url"}, "bad-url"),
    ],
)
def test_bad_provenance_values(kwargs: dict[str, str], code: str) -> None:
    with pytest.raises(ConfigError) as err:
        make_provenance(**kwargs)  # type: ignore[arg-type]
    assert err.value.code == code


def test_good_provenance() -> None:
    p = make_provenance(
        collection="notes 2024",
        license="cc-by-4.0",
        source_url="https://example.org/a",
        owner=" Ada ",
        consent="granted",
    )
    assert (p.collection, p.license, p.owner, p.consent) == (
        "notes 2024",
        "CC-BY-4.0",
        "Ada",
        Consent.granted,
    )
