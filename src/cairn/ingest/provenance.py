"""Validate provenance given by a user: SPDX licence ids, consent, URLs, collection names."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any
from urllib.parse import urlparse

from cairn.errors import ConfigError
from cairn.kb.types import Consent, Provenance

_COLLECTION = re.compile(r"^[\w][\w.\- ]{0,63}$", re.UNICODE)


@lru_cache(maxsize=1)
def _licensing() -> Any:
    from license_expression import get_spdx_licensing

    return get_spdx_licensing()


def normalise_license(value: str | None) -> str | None:
    """An SPDX id or expression in its canonical spelling; ``LicenseRef-*`` is allowed."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    info = _licensing().validate(value)
    unknown = [s for s in info.invalid_symbols if not str(s).startswith("LicenseRef-")]
    if unknown:
        raise ConfigError(
            "unknown-license",
            f"--license {value!r}: unknown SPDX licence id {', '.join(map(str, unknown))} "
            "(see https://spdx.org/licenses/; use LicenseRef-<name> for a custom licence)",
        )
    if info.errors and not info.invalid_symbols:
        raise ConfigError("bad-license", f"--license {value!r}: {'; '.join(info.errors)}")
    return str(info.normalized_expression) if info.normalized_expression else value


def make_provenance(
    *,
    collection: str = "default",
    license: str | None = None,
    source_url: str | None = None,
    owner: str | None = None,
    consent: str | Consent = Consent.unknown,
) -> Provenance:
    if not _COLLECTION.match(collection or ""):
        raise ConfigError(
            "bad-collection",
            f"--collection {collection!r}: use 1-64 letters, digits, spaces, '.', '-' or '_'",
        )
    if source_url is not None:
        parsed = urlparse(source_url)
        if parsed.scheme not in ("http", "https", "file", "s3", "ftp") or not (
            parsed.netloc or parsed.path
        ):
            raise ConfigError(
                "bad-url", f"--source-url {source_url!r}: expected an absolute URL like https://..."
            )
    try:
        consent_value = Consent(consent)
    except ValueError as err:
        raise ConfigError(
            "bad-consent", f"--consent {consent!r}: must be one of granted, refused, unknown"
        ) from err
    return Provenance(
        collection=collection,
        license=normalise_license(license),
        source_url=source_url,
        owner=owner.strip() if owner and owner.strip() else None,
        consent=consent_value,
    )
