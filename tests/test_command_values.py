"""Slot values read by type and description: quotes, units, described values, number lists.

Every function document here is made up for the test (none is a benchmark item)."""

from __future__ import annotations

from typing import Any

from cairn.command.operations import from_function_doc
from cairn.command.slots import fill
from cairn.command.values import described_values, number_groups, quoted_phrases


def _op(props: dict[str, Any], required: list[str] | None = None) -> Any:
    return from_function_doc(
        {
            "name": "tool.run",
            "description": "A made-up operation.",
            "parameters": {
                "type": "dict",
                "properties": props,
                "required": list(props) if required is None else required,
            },
        }
    )


def test_an_apostrophe_inside_a_quoted_phrase_does_not_end_it() -> None:
    got = [q[0] for q in quoted_phrases("Rate the review 'It's fresh and it's cheap!' please")]
    assert got == ["It's fresh and it's cheap!"]
    assert [q[0] for q in quoted_phrases("say \"hi there\" and 'bye'")] == ["hi there", "bye"]


def test_each_quoted_phrase_goes_to_the_parameter_named_before_it() -> None:
    op = _op(
        {
            "recipient": {"type": "string", "description": "E-mail address of the recipient."},
            "body": {"type": "string", "description": "The message text."},
            "subject": {"type": "string", "description": "The subject line."},
        }
    )
    got = fill(op, "Write to kim@example.org with the subject 'Budget' and message \"Call me\"")
    assert got.values == {"recipient": "kim@example.org", "subject": "Budget", "body": "Call me"}


def test_units_send_money_to_amounts_percent_to_rates_and_hours_to_hour_parameters() -> None:
    op = _op(
        {
            "years": {"type": "integer", "description": "How long it stays in the account."},
            "rate": {"type": "number", "description": "Annual interest rate as a decimal."},
            "principal": {"type": "integer", "description": "The amount invested in dollars."},
        }
    )
    got = fill(op, "I put in $2500 for 4 years at 3%")
    assert got.values == {"principal": 2500, "years": 4, "rate": 0.03}
    clock = _op(
        {
            "start_count": {"type": "integer", "description": "Cells at the start."},
            "span": {"type": "integer", "description": "Total duration in hours."},
        }
    )
    assert fill(clock, "begin with 300 cells and run it for 8 hours").values == {
        "start_count": 300,
        "span": 8,
    }


def test_a_percent_stays_whole_for_an_integer_parameter() -> None:
    op = _op({"cutoff": {"type": "integer", "description": "Confidence percentile to keep."}})
    assert fill(op, "drop anything under 40% confidence").values == {"cutoff": 40}


def test_a_value_the_description_names_fills_a_free_string() -> None:
    op = _op(
        {
            "action": {
                "type": "string",
                "description": "What to do: 'add' a note, 'archive' a note or 'pin' it.",
            },
            "flavour": {"type": "string", "description": "Taste, such as sweet, sour or bitter"},
        }
    )
    assert described_values(op.params[1]) == ["sweet", "sour", "bitter"]
    got = fill(op, "I archived the note; make it sour")
    assert got.values == {"action": "archive", "flavour": "sour"}


def test_number_runs_and_tuples_fill_the_list_named_before_them() -> None:
    groups = number_groups("points (1.5, -2.25) and (3, 4); then 7, 8 and 9")
    assert [g.values for g in groups] == [(1.5, -2.25), (3, 4), (7, 8, 9)]
    op = _op(
        {
            "left": {"type": "array", "items": {"type": "integer"}, "description": "Left set."},
            "right": {"type": "array", "items": {"type": "integer"}, "description": "Right set."},
        }
    )
    got = fill(op, "compare the left set 1, 2, 3 with the right set 4, 5 and 6")
    assert got.values == {"left": [1, 2, 3], "right": [4, 5, 6]}
    # a full stop may end a run: "4, 8, 12." keeps its 12
    got = fill(op, "compare the left set 3, 6, 9 with the right set 4, 8, 12.")
    assert got.values == {"left": [3, 6, 9], "right": [4, 8, 12]}


def test_a_list_of_ids_leaves_the_number_its_own_parameter_names() -> None:
    op = _op(
        {
            "ids": {"type": "array", "items": {"type": "integer"}, "description": "Item ids."},
            "limit": {"type": "integer", "description": "The minimum stock level."},
        }
    )
    got = fill(op, "are items 11 for red and 12 for blue below the limit of 5?")
    assert got.values == {"ids": [11, 12], "limit": 5}


def test_a_file_path_goes_to_a_path_parameter() -> None:
    op = _op({"path": {"type": "string", "description": "Path to the CSV file."}})
    assert fill(op, "load C:/data/sales.csv and sum it").values == {"path": "C:/data/sales.csv"}


def test_an_optional_string_is_filled_only_after_its_own_name() -> None:
    op = _op(
        {
            "genre": {"type": "string", "description": "Genre of the film."},
            "directed_by": {"type": "string", "description": "Director, optional."},
            "clip_id": {"type": "string", "description": "Identifier, optional."},
        },
        required=["genre"],
    )
    got = fill(op, "find Western films directed by Ann Vale")
    assert got.values["directed_by"] == "Ann Vale" and "clip_id" not in got.values
    assert fill(op, "play Western, the clip_id is zz_91").values["clip_id"] == "zz_91"


def test_a_place_stops_at_the_end_of_its_sentence() -> None:
    op = _op({"location": {"type": "string", "description": "The city and country."}})
    got = fill(op, "What is it like in Lima, Peru. I am packing.")
    assert got.values == {"location": "Lima, Peru"}


def test_a_date_is_written_in_the_order_the_description_gives() -> None:
    op = _op({"date": {"type": "string", "description": "The day, in MM-DD-YYYY format."}})
    assert fill(op, "readings for 2021/03/09 please").values == {"date": "03-09-2021"}
    dots = _op({"date": {"type": "string", "description": "Day as YYYY.MM.DD"}})
    assert fill(dots, "readings for 2021-03-09").values == {"date": "2021.03.09"}


def test_a_yes_no_parameter_is_stated_by_a_word_it_starts() -> None:
    op = _op(
        {
            "ticket": {"type": "integer", "description": "Ticket number."},
            "closed_status": {"type": "boolean", "description": "Whether it is closed."},
            "verbose": {"type": "boolean", "description": "Long output."},
        },
        required=["ticket", "closed_status", "verbose"],
    )
    got = fill(op, "is ticket 88 closed yet?")
    assert got.values == {"ticket": 88, "closed_status": True, "verbose": False}


def test_a_physical_unit_sends_its_number_to_the_quantity_it_measures() -> None:
    op = _op(
        {
            "heat1": {"type": "integer", "description": "Starting temperature of block one."},
            "load1": {"type": "integer", "description": "Mass of block one in kg."},
            "heat2": {"type": "integer", "description": "Starting temperature of block two."},
            "load2": {"type": "integer", "description": "Mass of block two in kg."},
        }
    )
    got = fill(op, "Find the final temperature when 7 kg at 40 K meets 9 kg at 80 K")
    assert got.values == {"load1": 7, "heat1": 40, "load2": 9, "heat2": 80}
    timer = _op({"tone": {"type": "integer", "description": "The tone frequency."}})
    assert fill(timer, "play a 440Hz tone").values == {"tone": 440}
    # a unit of another quantity does not go to a parameter that cannot take it
    wait = _op({"pause": {"type": "integer", "description": "How long to pause, in seconds."}}, [])
    assert "pause" not in fill(wait, "walk 5 km with a pause").values


def test_numbered_parameters_take_numbers_in_the_order_they_are_said() -> None:
    op = _op(
        {
            "edge1": {"type": "integer", "description": "First edge."},
            "edge2": {"type": "integer", "description": "Second edge."},
            "edge3": {"type": "integer", "description": "Third edge."},
        }
    )
    # "three edges" counts the parameters; it is not a value
    got = fill(op, "a shape whose three edges are 8 units, 6 units and 7 units long")
    assert got.values == {"edge1": 8, "edge2": 6, "edge3": 7}
    pitch = _op(
        {
            "first_pitch": {"type": "integer", "description": "The first pitch in Hz."},
            "second_pitch": {"type": "integer", "description": "The second pitch in Hz."},
        }
    )
    assert fill(pitch, "between 300Hz and 150Hz pitch").values == {
        "first_pitch": 300,
        "second_pitch": 150,
    }


def test_two_names_joined_by_and_then_two_numbers_pair_up_in_order() -> None:
    op = _op(
        {
            "width": {"type": "integer", "description": "Side length."},
            "depth": {"type": "integer", "description": "Side length."},
        }
    )
    assert fill(op, "a box with width and depth as 12cm and 30cm").values == {
        "width": 12,
        "depth": 30,
    }


def test_a_cue_behind_a_comma_belongs_to_the_number_before_it() -> None:
    op = _op(
        {
            "rooms": {"type": "integer", "description": "Number of rooms."},
            "floors": {"type": "integer", "description": "Number of floors."},
        }
    )
    got = fill(op, "a house with 5 rooms, 2 floors")
    assert got.values == {"rooms": 5, "floors": 2}


def test_spoken_counts_fill_the_parameter_their_noun_names_and_nothing_else() -> None:
    op = _op(
        {
            "guests": {"type": "integer", "description": "How many guests."},
            "infants": {"type": "integer", "description": "How many infants."},
        }
    )
    assert fill(op, "a table for two guests and one infant").values == {"guests": 2, "infants": 1}
    pair = _op(
        {
            "a": {"type": "integer", "description": "First number."},
            "b": {"type": "integer", "description": "Second number."},
        }
    )
    # "two numbers" is a count of what follows, not a value
    assert fill(pair, "the larger of two numbers, 12 and 15").values == {"a": 12, "b": 15}


def test_millions_and_billions_written_against_the_number() -> None:
    op = _op({"revenue": {"type": "integer", "description": "Revenue in dollars."}})
    assert fill(op, "revenue of $1.5M").values == {"revenue": 1500000}
    assert fill(op, "revenue of 2bn").values == {"revenue": 2000000000}


def test_string_lists_keep_whole_items_and_stop_at_the_next_phrase() -> None:
    op = _op({"chords": {"type": "array", "items": {"type": "string"}, "description": "Chords."}})
    assert fill(op, "play a progression of Am, Dm and E for 8 bars").values == {
        "chords": ["Am", "Dm", "E"]
    }
    feats = _op({"parts": {"type": "array", "items": {"type": "string"}, "description": "Parts."}})
    assert fill(feats, "a bike with parts of carbon frame, disc brakes and wide tyres").values == {
        "parts": ["carbon frame", "disc brakes", "wide tyres"]
    }
    cols = _op({"cols": {"type": "array", "items": {"type": "string"}, "description": "Columns."}})
    got = fill(cols, "use the columns 'Height', 'Weight' and 'Age' and a label 'Risk'")
    assert got.values == {"cols": ["Height", "Weight", "Age"]}


def test_one_address_goes_to_one_parameter() -> None:
    op = _op(
        {
            "to": {"type": "string", "description": "The recipient's email address."},
            "title": {"type": "string", "description": "Title of the email."},
            "cc": {"type": "string", "description": "Email address to copy."},
        },
        ["to", "title"],
    )
    got = fill(op, "mail kim@example.org with the title 'Rent'")
    assert got.values == {"to": "kim@example.org", "title": "Rent"}


def test_enum_actions_are_read_from_their_everyday_words() -> None:
    op = _op(
        {
            "action": {"type": "string", "enum": ["add", "delete", "complete"]},
            "item": {"type": "string", "description": "The item text."},
        }
    )
    assert fill(op, "remove the item 'milk' from my list").values["action"] == "delete"
    assert fill(op, "I finished the item 'tax form'").values["action"] == "complete"
    flag = _op({"normalize": {"type": "boolean", "description": "Scale the inputs."}}, [])
    assert fill(flag, "fit it and apply normalization").values == {"normalize": True}


def test_identifiers_follow_the_parameter_that_asks_for_them() -> None:
    op = _op(
        {
            "order_id": {"type": "string", "description": "The order."},
            "note": {"type": "string", "description": "A note."},
        },
        ["order_id"],
    )
    assert fill(op, "Where is my parcel with order ID ab-77Q3 from 2021?").values == {
        "order_id": "ab-77Q3"
    }
    assert fill(op, "order id 90211 please").values["order_id"] == "90211"


def test_a_value_said_before_the_parameter_name_when_nothing_follows_it() -> None:
    op = _op(
        {
            "club": {"type": "string", "description": "The club."},
            "league": {"type": "string", "description": "The league it plays in."},
            "term": {"type": "string", "description": "Which term."},
        },
        ["club", "league"],
    )
    got = fill(op, "Table position of Leeds Rhinos in the Super League for the Autumn term")
    assert got.values == {"club": "Leeds Rhinos", "league": "Super League", "term": "Autumn"}


def test_phrases_lose_possessives_and_their_own_name_but_keep_abbreviations() -> None:
    firm = _op({"company": {"type": "string", "description": "The company."}})
    assert fill(firm, "shares of the company Fern Ltd.").values == {"company": "Fern Ltd."}
    ground = _op({"slope_kind": {"type": "string", "description": "The ground."}})
    assert fill(ground, "plants for a rocky slope").values == {"slope_kind": "rocky"}
    who = _op({"player": {"type": "string", "description": "The player's name."}})
    assert fill(who, "stats of Pelé's matches").values == {"player": "Pelé"}


def test_scaled_numbers_stay_one_number() -> None:
    op = _op({"shares": {"type": "integer", "description": "Shares outstanding."}})
    assert fill(op, "with 250 million shares").values == {"shares": 250000000}


def test_a_prefixed_si_unit_becomes_the_unit_the_description_asks_for() -> None:
    op = _op(
        {
            "gap": {"type": "number", "description": "The plate gap in meters."},
            "charge_time": {"type": "number", "description": "Charging time (s)."},
            "load": {"type": "number", "description": "The load in kilograms."},
        }
    )
    got = fill(op, "a gap of 35 mm, charge time of 120ms and a load of 400g").values
    assert got == {"gap": 0.035, "charge_time": 0.12, "load": 0.4}
    # a unit of another quantity, or none, leaves the number as said
    assert fill(op, "a gap of 2, charge time 3 and load of 5").values == {
        "gap": 2.0, "charge_time": 3.0, "load": 5.0
    }  # fmt: skip


def test_a_money_amount_goes_to_a_money_parameter_named_in_other_words() -> None:
    op = _op(
        {
            "earnings": {"type": "integer", "description": "Yearly earnings."},
            "bonus_paid": {"type": "integer", "description": "Bonus paid out."},
        },
        ["earnings"],
    )
    got = fill(op, "earnings of $90,000 and a bonus paid of $5,000")
    assert got.values == {"earnings": 90000, "bonus_paid": 5000}


def test_a_phrase_naming_what_the_operation_fetches_is_not_its_value() -> None:
    op = from_function_doc(
        {
            "name": "zoo.get_animals",
            "description": "Animals kept in an enclosure.",
            "parameters": {
                "type": "dict",
                "properties": {"enclosure": {"type": "string", "description": "The enclosure."}},
                "required": ["enclosure"],
            },
        }
    )
    got = fill(op, "Which are the names of animals kept in the reptile house?")
    assert got.values == {"enclosure": "reptile house"}


def test_a_city_for_a_city_state_parameter_gets_its_state() -> None:
    op = _op(
        {
            "where": {"type": "string", "description": "In the format 'City, State'."},
            "note": {"type": "string", "description": "A note, e.g. hello."},
        },
        ["where"],
    )
    assert fill(op, "a room in Sacramento").values["where"] == "Sacramento, CA"
    assert fill(op, "a room in Springfield illinois").values["where"] == "Springfield, IL"
    assert fill(op, "a room in Boise, ID").values["where"] == "Boise, ID"
    # a lower-case state code is a word ("or", "in"), and an unknown place stays as said
    assert fill(op, "a room in Portland or Salem").values["where"] == "Portland, OR"
    assert fill(op, "a room in Narnia").values["where"] == "Narnia"
    # a bigger city of the name outside the US: its country (not Moscow, Idaho)
    assert fill(op, "a room in Moscow").values["where"] == "Moscow, Russia"
    plain = _op({"where": {"type": "string", "description": "The city."}})
    assert fill(plain, "a room in Sacramento").values["where"] == "Sacramento"


def test_people_named_by_role_without_the_role_word() -> None:
    op = _op(
        {
            "genre": {"type": "string", "description": "Genre.", "enum": ["Drama", "Comedy"]},
            "directed_by": {"type": "string", "description": "The director's name."},
            "cast": {"type": "string", "description": "An actor in the film."},
        },
        [],
    )
    got = fill(op, "a drama directed by Ana Lily Amirpour featuring Sheila Vand please")
    assert got.values == {
        "genre": "Drama",
        "directed_by": "Ana Lily Amirpour",
        "cast": "Sheila Vand",
    }
    got = fill(op, "A film that stars Ruth Negga. Ideally with Rebecca Hall as the director.")
    assert got.values == {"directed_by": "Rebecca Hall", "cast": "Ruth Negga"}
    # one capitalised word is not a full name
    assert "cast" not in fill(op, "a comedy with Paris in it").values


def test_counts_of_people_ratings_and_yes_no_enums() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "City."},
            "number_of_adults": {"type": "integer", "description": "Adults staying."},
            "rating": {"type": "number", "description": "Lowest review rating."},
            "has_pool": {
                "type": "string",
                "description": "Pool.",
                "enum": ["True", "False", "dontcare"],
            },
        },
        ["city"],
    )
    got = fill(op, "a flat in Lisbon with a pool for 3 ppl, rated 4.5 or more")
    assert got.values == {
        "city": "Lisbon",
        "number_of_adults": 3,
        "rating": 4.5,
        "has_pool": "True",
    }
    assert "has_pool" not in fill(op, "a flat in Lisbon for 3 ppl").values
    assert fill(op, "a flat in Lisbon with no pool").values["has_pool"] == "False"


def test_a_value_ends_with_its_sentence_and_loses_an_id_label() -> None:
    op = _op(
        {
            "keyword": {"type": "string", "description": "What to look for."},
            "component": {"type": "string", "description": "The component's UUID."},
        },
        ["keyword"],
    )
    got = fill(op, "News about Mo Farah. Can you check the component UUID QX77?")
    assert got.values == {"keyword": "Mo Farah", "component": "QX77"}
    firm = _op({"company": {"type": "string", "description": "The company."}})
    assert fill(firm, "Filings of Fern Ltd. please").values == {"company": "Fern Ltd."}


def test_excluding_a_yes_no_says_false_and_not_naming_it_says_nothing() -> None:
    op = _op(
        {
            "owner": {"type": "string", "description": "Who."},
            "include_archived": {"type": "boolean", "description": "Archived ones too."},
        },
        ["owner"],
    )
    assert fill(op, "boards of Priya, include archived").values["include_archived"] is True
    got = fill(op, "boards of Priya, exclude any archived").values
    assert got["include_archived"] is False
    assert "include_archived" not in fill(op, "boards of Priya").values


def test_an_enum_value_said_beats_an_alias_and_a_catch_all() -> None:
    op = _op(
        {
            "kind": {
                "type": "string",
                "description": "Server kind. For example, 'pg' for database servers.",
                "enum": ["all", "pg", "mongodb", "redis"],
            }
        },
        [],
    )
    assert fill(op, "list all the MongoDB servers").values == {"kind": "mongodb"}
    assert fill(op, "list the redis servers").values == {"kind": "redis"}
    assert fill(op, "list all servers").values == {"kind": "all"}


def test_a_month_written_with_a_full_stop_and_no_space() -> None:
    op = _op({"day": {"type": "string", "format": "date", "description": "The day."}})
    assert fill(op, "the closing price on Sept.14, 2021").values == {"day": "2021-09-14"}


def test_dotted_dates_clock_times_and_street_addresses() -> None:
    op = _op(
        {
            "pickup": {"type": "string", "description": "Pick-up address."},
            "day": {"type": "string", "description": "Day, 'YYYY-MM-DD'."},
            "start_time": {"type": "string", "description": "Start, 24-hour 'HH:MM'."},
            "seats": {"type": "integer", "description": "Seats."},
        },
        ["pickup", "day"],
    )
    got = fill(op, "2 seats from 77 Mill Lane, Sparks, NV on 2024.3.9 at 6:15pm")
    assert got.values == {
        "pickup": "77 Mill Lane, Sparks, NV", "day": "2024-03-09", "start_time": "18:15", "seats": 2
    }  # fmt: skip
    said = _op({"at_time": {"type": "string", "description": "When."}})
    assert fill(said, "remind me at 7am").values == {"at_time": "7am"}
    slot = _op({"visit_time": {"type": "string", "description": "Time, 'HH:MM'."}})
    assert fill(slot, "a haircut at 2 in the afternoon").values == {"visit_time": "14:00"}
    # "2003-2006" stays two years, not February 2003
    years = _op({"start_year": {"type": "integer", "description": "From."},
                 "end_year": {"type": "integer", "description": "To."}})  # fmt: skip
    assert fill(years, "sales from 2003-2006").values == {"start_year": 2003, "end_year": 2006}


def test_a_true_false_enum_reads_the_thing_it_names_in_other_words() -> None:
    yes_no = ["True", "False", "dontcare"]
    op = _op(
        {
            "city": {"type": "string", "description": "City."},
            "good_for_kids": {"type": "string", "description": "'True' if yes, 'False' if no.",
                              "enum": yes_no},
            "free_entry": {"type": "string", "description": "'True' if yes, 'False' if no.",
                           "enum": yes_no},
        },
        ["city"],
    )  # fmt: skip
    got = fill(op, "sights in Lyon that are free and suitable for children").values
    assert got == {"city": "Lyon", "good_for_kids": "True", "free_entry": "True"}
    got = fill(op, "sights in Lyon, not for children, no fee").values
    assert got == {"city": "Lyon", "good_for_kids": "False", "free_entry": "True"}  # no fee: free
    # "good" alone praises; it does not say good_for_kids
    assert fill(op, "good sights in Lyon").values == {"city": "Lyon"}


def test_a_label_word_or_a_url_after_the_parameters_name() -> None:
    op = _op(
        {
            "firm": {"type": "string", "description": "Name of the firm."},
            "cik": {"type": "string", "description": "The Central Index Key of the firm."},
        }
    )
    got = fill(op, "Look up the filings of Globex. Their CIK number is 0001234567.").values
    assert got == {"firm": "Globex", "cik": "0001234567"}
    server = _op(
        {
            "host": {"type": "string", "description": "The server's hostname."},
            "api_key": {"type": "string", "description": "Key."},
        }
    )
    got = fill(server, "The host address is https://data.example.org, and the API key is 9876.")
    assert got.values == {"host": "https://data.example.org", "api_key": "9876"}


def test_a_list_named_in_the_singular_and_an_include_flag_named_by_what_it_includes() -> None:
    op = _op(
        {
            "product_id": {"type": "string", "description": "The product."},
            "sizes": {"type": "array", "items": {"type": "string"}, "description": "Sizes."},
            "include_status": {"type": "boolean", "description": "Whether to add its status."},
        },
        ["product_id", "sizes"],
    )
    got = fill(op, "Is product SH-42 still in stock in size 38, including its status?").values
    assert got == {"product_id": "SH-42", "sizes": ["38"], "include_status": True}
    assert fill(op, "Do you have product SH-42 in size M?").values["sizes"] == ["M"]
    # "the size of my last order" names no size
    assert "sizes" not in fill(op, "Product SH-42 in the size of my last order?").values
    assert "include_status" not in fill(op, "Product SH-42 in size M?").values


def test_dates_in_the_words_the_description_uses_and_a_month_by_its_name() -> None:
    words = _op({"date": {"type": "string", "description": "The date (month-day-year)."}})
    assert fill(words, "the pollen count on 2024/05/03").values == {"date": "05-03-2024"}
    two = _op({"show_date": {"type": "string", "description": "Date in 'mm-yyyy' format."}})
    assert fill(two, "shows in April 2025").values == {"show_date": "04-2025"}
    month = _op(
        {
            "artist": {"type": "string", "description": "The band."},
            "month": {"type": "string", "description": "Month of the show."},
        }
    )
    assert fill(month, "When does Blur play in March?").values == {
        "artist": "Blur",
        "month": "March",
    }


def test_a_name_ends_where_a_verb_starts() -> None:
    op = _op(
        {
            "artist": {"type": "string", "description": "The performer."},
            "location": {"type": "string", "description": "City of the show."},
        }
    )
    got = fill(op, "Details for the artist Adele singing in Leeds").values
    assert got == {"artist": "Adele", "location": "Leeds"}


def test_people_go_to_the_role_their_cue_names() -> None:
    op = _op(
        {
            "directed_by": {"type": "string", "description": "Director of the movie."},
            "cast": {"type": "string", "description": "An actor in the movie."},
        },
        [],
    )
    assert fill(op, "I want a film with Ana Lopez in it.").values == {"cast": "Ana Lopez"}
    assert fill(op, "A movie that features Tom Gray in the cast.").values == {"cast": "Tom Gray"}
    got = fill(op, "Movies acted by J. Patrick McNamara and directed by Ann Lee").values
    assert got == {"directed_by": "Ann Lee", "cast": "J. Patrick McNamara"}
    got = fill(op, "Find the movie directed by Joel Zwick that Joey Fatone acted in?").values
    assert got == {"directed_by": "Joel Zwick", "cast": "Joey Fatone"}
    # with no acting parameter, "with X" still names the person
    songs = _op({"artist": {"type": "string", "description": "The performer."}}, [])
    assert fill(songs, "Play songs with Ana Lopez").values == {"artist": "Ana Lopez"}


def test_a_citys_nickname_is_its_name_for_a_city_parameter() -> None:
    weather = _op({"city": {"type": "string", "description": "City name."}})
    assert fill(weather, "How's the weather in LA?").values == {"city": "Los Angeles"}
    stay = _op({"where_to": {"type": "string", "description": "In the format 'City, State'."}})
    assert fill(stay, "a house at Chi-town").values == {"where_to": "Chicago, IL"}
    assert fill(stay, "a hotel in New York City").values == {"where_to": "New York, NY"}
    airport = _op({"origin": {"type": "string", "description": "Airport code."}})
    assert fill(airport, "flights from LA").values == {"origin": "LA"}  # not a city parameter


def test_a_city_said_with_its_country_or_state_fills_both() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "The city."},
            "country": {"type": "string", "description": "The country of the city."},
        }
    )
    got = fill(op, "What is the humidity of Osaka, Japan right now?").values
    assert got == {"city": "Osaka", "country": "Japan"}
    tax = _op(
        {
            "amount": {"type": "number", "description": "Purchase amount in dollars."},
            "state": {"type": "string", "description": "U.S. state abbreviation, such as 'CA'."},
            "city": {"type": "string", "description": "The city."},
        },
        ["amount", "state"],
    )
    got = fill(tax, "I spent $20.50 in Austin, Texas. What is the sales tax?").values
    assert got == {"amount": 20.5, "state": "TX", "city": "Austin"}
    one = _op({"location": {"type": "string", "description": "The city."}})
    assert fill(one, "weather in Osaka, Japan").values == {"location": "Osaka, Japan"}


def test_a_date_with_its_clock_time_as_the_description_writes_it() -> None:
    flight = _op(
        {
            "from_city": {"type": "string", "description": "Departure city, 'City, State'."},
            "leave_time": {"type": "string", "description": "In the format 'dd/mm/yyyy HH:MM'."},
        }
    )
    got = fill(flight, "A flight from Denver, CO on the 20th of June 2022 at 5 in the afternoon")
    assert got.values == {"from_city": "Denver, CO", "leave_time": "20/06/2022 17:00"}
    move = _op(
        {
            "event_id": {"type": "string", "description": "The event."},
            "new_datetime": {
                "type": "string",
                "description": "ISO-8601, e.g. '2023-04-15T13:45:00Z'.",
            },
        }
    )
    got = fill(move, "Move event 'dentist-7' to the 15th of April 2021 at 1:45 pm")
    assert got.values == {"event_id": "dentist-7", "new_datetime": "2021-04-15T13:45:00Z"}
    day = _op({"leave_time": {"type": "string", "description": "Departure, 'dd/mm/yyyy'."}})
    assert fill(day, "leave on March 3, 2024 please").values == {"leave_time": "03/03/2024"}


def test_a_start_and_end_with_clock_times_take_the_clocks_a_duration_or_the_whole_day() -> None:
    fmt = "As 'YYYY-MM-DD HH:mm:ss'."
    room = _op(
        {
            "room": {"type": "string", "description": "The room."},
            "start_time": {"type": "string", "description": f"Start of the booking. {fmt}"},
            "end_time": {"type": "string", "description": f"End of the booking. {fmt}"},
        }
    )
    between = fill(room, "Book Orion on March 4, 2024 between 10:30 a.m. and 7:00 p.m.").values
    assert between["start_time"] == "2024-03-04 10:30:00"
    assert between["end_time"] == "2024-03-04 19:00:00"
    lasting = fill(room, "Book Orion on 2024-03-04 at 9:00 for 2 hours").values
    assert (lasting["start_time"], lasting["end_time"]) == (
        "2024-03-04 09:00:00", "2024-03-04 11:00:00"
    )  # fmt: skip
    day = fill(room, "Book Orion on the 22nd of March, 2024").values
    assert (day["start_time"], day["end_time"]) == ("2024-03-22 00:00:00", "2024-03-22 23:59:59")
    onwards = fill(room, "Book Orion on March 25, 2024 from 2:30 PM onwards").values
    assert onwards["start_time"] == "2024-03-25 14:30:00" and "end_time" not in onwards


def test_an_integer_takes_the_code_its_description_gives_the_thing_said() -> None:
    op = _op(
        {
            "cabin_id": {
                "type": "integer",
                "description": "The cabin. For example, 1 represents economy class, 2 represents "
                "business class, 3 represents first class.",
            },
            "volume": {"type": "integer", "description": "0 is muted and 100 is the top volume."},
        },
        ["cabin_id"],
    )
    assert fill(op, "a seat in business class please").values == {"cabin_id": 2}
    assert fill(op, "economy class, and set the volume to 50").values == {
        "cabin_id": 1,
        "volume": 50,
    }


def test_an_area_of_the_kind_a_parameter_names() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "The city."},
            "district_name": {"type": "string", "description": "The district."},
            "sub_district_name": {"type": "string", "description": "The sub-district."},
        }
    )
    got = fill(op, "A plumber in Lyon, Croix Rousse District, Saint Paul Subdistrict").values
    assert got["district_name"] == "Croix Rousse" and got["sub_district_name"] == "Saint Paul"
    got = fill(op, "A plumber in Lyon, in the district of Vaise. Fast please").values
    assert got["district_name"] == "Vaise"
    shown = _op({"county": {"type": "string", "description": "E.g. 'Marin County'."}})
    assert fill(shown, "parks in Sonoma County").values == {"county": "Sonoma County"}


def test_a_clock_time_gets_seconds_only_when_the_description_asks_for_no_shorter_form() -> None:
    def alarm(description: str) -> object:
        props = {"alarm_time": {"type": "string", "description": description}}
        return fill(_op(props, ["alarm_time"]), "set an alarm for 11 PM").values["alarm_time"]

    assert alarm("As 'HH:MM:SS'.") == "23:00:00"
    assert alarm("Such as 'HH:MM:SS', 'HH:MM', or 'HH:MM AM/PM'.") == "23:00"


def test_a_family_of_four_a_clock_time_and_extra_for_additional() -> None:
    op = _op(
        {
            "to_city": {"type": "string", "description": "Where to."},
            "riders": {"type": "integer", "description": "How many ride.", "enum": [1, 2, 3, 4]},
            "seat_count": {"type": "integer", "description": "Seats to hold."},
            "additional_bikes": {"type": "boolean", "description": "Bikes on board."},
        },
        ["to_city"],
    )
    got = fill(op, "My family of four goes to Reno, leaving at 2 PM, with extra bikes").values
    assert got["riders"] == 4 and got["additional_bikes"] is True
    assert fill(op, "to Reno, a party of 3").values["seat_count"] == 3


def test_languages_said_become_the_codes_a_parameter_asks_for() -> None:
    op = _op(
        {
            "src_lang": {"type": "string", "description": "Source language code, e.g. 'en'."},
            "tgt_lang": {"type": "string", "description": "Target.", "enum": ["en-GB", "pt-BR"]},
            "text": {"type": "string", "description": "What to translate."},
        },
        ["text"],
    )
    got = fill(op, "Subtitle 'guten Morgen' from German into Portuguese").values
    assert (got["src_lang"], got["tgt_lang"]) == ("de", "pt-BR")
    free = _op({"language": {"type": "string", "description": "The language to speak."}})
    assert fill(free, "say it in Portuguese").values.get("language") != "pt"


def test_counted_items_fill_a_list_of_items_and_a_list_of_quantities() -> None:
    op = _op(
        {
            "shop": {"type": "string", "description": "The shop."},
            "products": {"type": "array", "items": {"type": "string"}, "description": "What."},
            "counts": {"type": "array", "items": {"type": "integer"}, "description": "How many."},
        },
        ["shop", "products", "counts"],
    )
    got = fill(op, "Place an order at Deli Uno: two bagels, 3 jars of honey and a baguette").values
    assert got["products"] == ["bagels", "honey", "baguette"] and got["counts"] == [2, 3, 1]


def test_an_object_takes_its_properties_and_a_url_takes_only_a_url() -> None:
    op = _op(
        {
            "member_id": {"type": "integer", "description": "The member's ID."},
            "changes": {
                "type": "dict",
                "description": "What to change.",
                "properties": {
                    "email": {"type": "string", "description": "New email."},
                    "age": {"type": "integer", "description": "New age."},
                },
            },
        },
        ["member_id", "changes"],
    )
    got = fill(op, "Set my email to ann@example.org and my age to 41. My member ID is 77.")
    assert got.values == {"member_id": 77, "changes": {"email": "ann@example.org", "age": 41}}
    get = _op(
        {
            "url": {"type": "string", "description": "The address to send the request to."},
            "params": {
                "type": "dict",
                "description": "Query parameters.",
                "properties": {"nodeName": {"type": "string", "description": "The node."}},
            },
        },
        ["url"],
    )
    assert fill(get, "list the queues on node 'Node5'").missing == ["url"]
    sent = fill(get, "GET https://example.org/queues for node 'Node5'").values
    assert sent["url"] == "https://example.org/queues"


def test_a_parameter_given_by_its_own_name_and_a_colon() -> None:
    op = _op(
        {
            "ticket_id": {"type": "integer", "description": "The ticket."},
            "store": {"type": "string", "description": "Where to save it."},
            "patch": {
                "type": "dict",
                "description": "Fields to change.",
                "properties": {
                    "name": {"type": "string", "description": "New name."},
                    "email": {"type": "string", "description": "New email."},
                },
            },
        },
        ["ticket_id", "store", "patch"],
    )
    got = fill(op, "Update ticket 88 with 'name':'Ann Lee', 'email':'ann@b.org' in the store")
    assert got.values["patch"] == {"name": "Ann Lee", "email": "ann@b.org"}
    assert got.values.get("store") != "name"
    priority = _op({"priority": {"type": "integer", "description": "1 to 5."}})
    assert fill(priority, "file it with priority=4 please").values == {"priority": 4}


def test_the_speakers_own_name_and_a_city_said_with_its_state_code() -> None:
    op = _op(
        {
            "airline": {"type": "string", "description": "The airline, such as 'Delta'."},
            "person_name": {"type": "string", "description": "The passenger's full name."},
            "ticket": {"type": "string", "description": "Ticket number."},
        }
    )
    got = fill(op, "Hi, I am Priya Nair. Is my Delta flight on time? My ticket number is DL9876.")
    assert got.values == {"person_name": "Priya Nair", "airline": "Delta", "ticket": "DL9876"}
    place = _op(
        {"location": {"type": "string", "description": "'City, State', e.g. 'Austin, TX'."}}
    )
    got = fill(place, "Weather in Zion National Park, which is near Springdale, UT?")
    assert got.values == {"location": "Springdale, UT"}


def test_quotes_go_by_joined_name_words_not_by_the_operations_topic() -> None:
    stats = _op(
        {
            "game": {"type": "string", "description": "The name of the video game."},
            "username": {"type": "string", "description": "The username of the player."},
            "platform": {"type": "string", "description": "The platform user plays on."},
        },
        ["game", "username"],
    )
    got = fill(stats, "Show stats of 'Tetris' for user 'Kim'.").values
    assert got["username"] == "Kim" and got["game"] == "Tetris"
    price = from_function_doc(
        {
            "name": "auction.fetch_artwork_price",
            "description": "Fetch the price of an artwork.",
            "parameters": {
                "type": "dict",
                "properties": {
                    "artwork_name": {"type": "string", "description": "The artwork."},
                    "platform": {"type": "string", "description": "Where the price is from."},
                },
                "required": ["artwork_name"],
            },
        }
    )
    got = fill(price, "What is the price of the painting 'Water Lilies'?").values
    assert got == {"artwork_name": "Water Lilies"}  # "price" is the call's topic, not a cue


def test_a_month_written_against_its_day() -> None:
    op = _op({"date": {"type": "string", "description": "The date, 'MM-DD-YYYY'."}})
    assert fill(op, "the UV index for Oslo tomorrow, June01 2023").values == {"date": "06-01-2023"}


def test_a_state_parameter_gets_the_state_of_the_city_said() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "The name of the city."},
            "state": {"type": "string", "description": "The state where the city is located."},
        }
    )
    assert fill(op, "the crime rate in Denver in 2020").values == {
        "city": "Denver",
        "state": "Colorado",
    }
    code = _op(
        {
            "city": {"type": "string", "description": "The name of the city."},
            "state": {"type": "string", "description": "Two-letter state code."},
        }
    )
    assert fill(code, "Weather in Boise please").values == {"city": "Boise", "state": "ID"}
    assert fill(code, "Weather in Paris please").values == {"city": "Paris"}  # not a US city
    tax = _op(
        {
            "amount": {"type": "number", "description": "The purchase amount."},
            "state": {"type": "string", "description": "The U.S. state abbreviation, e.g. 'CA'."},
        }
    )
    assert fill(tax, "I spent $250 in New York").values == {"amount": 250.0, "state": "NY"}


def test_a_country_code_parameter_gets_the_code_or_the_country_of_the_city() -> None:
    props = {
        "city": {"type": "string", "description": "The city."},
        "country": {"type": "string", "description": "ISO 3166-1 alpha-2 code, e.g. 'US'."},
    }
    op = _op(props, ["city", "country"])
    assert fill(op, "the weather in Lyon").values == {"city": "Lyon", "country": "FR"}
    assert fill(op, "the weather in Leeds in the UK").values["country"] == "GB"
    optional = _op(props, ["city"])
    assert fill(optional, "the weather in Lyon").values == {"city": "Lyon"}


def test_yes_no_parameters_heard_through_stop_words_and_non() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "City."},
            "in_unit_laundry": {"type": "boolean", "description": "Laundry in the unit."},
            "smoking_allowed": {"type": "boolean", "description": "Smoking rooms."},
            "private_visibility": {"type": "boolean", "description": "Hide the payment."},
        },
        ["city"],
    )
    got = fill(op, "A non-smoking flat in Leeds with in-unit laundry; keep it private").values
    assert got == {
        "city": "Leeds",
        "in_unit_laundry": True,
        "smoking_allowed": False,
        "private_visibility": True,
    }
    login = _op({"login_required": {"type": "boolean", "description": "Needs a login."}})
    assert fill(login, "the portal requires a login").values == {"login_required": True}


def test_dates_written_with_slashes() -> None:
    op = _op(
        {
            "check_in_date": {"type": "string", "description": "Check-in, 'YYYY-MM-DD'."},
            "check_out_date": {"type": "string", "description": "Check-out, 'YYYY-MM-DD'."},
        }
    )
    got = fill(op, "check in on 05/10/2023 and check out on 05/15/2023").values
    assert got == {"check_in_date": "2023-05-10", "check_out_date": "2023-05-15"}
    day_first = _op({"day": {"type": "string", "description": "The date, 'YYYY-MM-DD'."}})
    assert fill(day_first, "on 20/06/2022").values == {"day": "2022-06-20"}


def test_a_name_said_before_the_bare_word_of_a_name_parameter() -> None:
    op = _op(
        {
            "location": {"type": "string", "description": "City, 'City, State'."},
            "theater_name": {"type": "string", "description": "The name of the theater."},
        },
        ["location"],
    )
    got = fill(op, "Any regular movies in San Jose at the Century 20 theater?").values
    assert got == {"location": "San Jose, CA", "theater_name": "Century 20"}
    got = fill(op, "Movies in Fresno, CA where the theater name is Tower Cinema").values
    assert got["theater_name"] == "Tower Cinema"
    museum = _op({"museum_name": {"type": "string", "description": "The museum."}})
    got = fill(museum, "Opening hours of the Metropolitan Museum of Art?").values
    assert got["museum_name"] != "Art"  # a capitalised "Museum" is part of the name
    album = _op({"album": {"type": "string", "description": "The album."}}, [])
    assert fill(album, "songs from the 'Get Weird' album?").values == {"album": "Get Weird"}
    firm = _op({"company_name": {"type": "string", "description": "The company."}})
    got = fill(firm, "the NYSE price of the company Acme Tools today").values
    assert got == {"company_name": "Acme Tools"}  # the name right after the bare word


def test_no_fee_says_free() -> None:
    yes_no = ["True", "False", "dontcare"]
    op = _op(
        {
            "location": {"type": "string", "description": "City."},
            "free_entry": {"type": "string", "description": "Free?", "enum": yes_no},
            "is_free": {"type": "boolean", "description": "No charge."},
        },
        ["location"],
    )
    got = fill(op, "museums in Lyon with no entry fee").values
    assert got == {"location": "Lyon", "free_entry": "True", "is_free": True}
    got = fill(op, "museums in Lyon, not free").values
    assert got == {"location": "Lyon", "free_entry": "False", "is_free": False}
    assert fill(op, "museums in Lyon").values == {"location": "Lyon"}


def test_a_longer_place_for_an_address_and_more_ways_to_say_no() -> None:
    ride = _op({"destination": {"type": "string", "description": "Where to go."}})
    got = fill(ride, "The destination is the 12 Oak Tree Garden Apartments, Palo Alto").values
    assert got == {"destination": "12 Oak Tree Garden Apartments, Palo Alto"}
    salon = _op(
        {
            "city": {"type": "string", "description": "City."},
            "is_unisex": {"type": "boolean", "description": "Serves everyone."},
        },
        ["city"],
    )
    got = fill(salon, "A hair stylist in Fresno, and it shouldn't be unisex").values
    assert got == {"city": "Fresno", "is_unisex": False}


def test_an_enum_value_said_by_its_root() -> None:
    genres = ["Mystery", "Thriller", "Horror", "dontcare"]
    op = _op({"genre": {"type": "string", "description": "Genre.", "enum": genres}}, [])
    assert fill(op, "something mysterious with a twist").values == {"genre": "Mystery"}
    assert fill(op, "an international film").values == {}  # "intern..." is not a genre
    kinds = _op({"kind": {"type": "string", "description": "Kind.", "enum": ["Music", "Sport"]}})
    assert fill(kinds, "musical events in Reno").values == {"kind": "Music"}


def test_a_percentage_kept_when_asked_and_hyphenated_words_and_a_country_over_a_guess() -> None:
    rate = _op(
        {
            "principal": {"type": "integer", "description": "Money invested."},
            "annual_rate": {"type": "number", "description": "Yearly rate as a percentage."},
        }
    )
    assert fill(rate, "Interest on $2000 at 4% a year").values == {
        "principal": 2000,
        "annual_rate": 4.0,
    }
    games = _op(
        {
            "year": {"type": "integer", "description": "Release year."},
            "multiplayer": {"type": "boolean", "description": "For several players."},
        }
    )
    got = fill(games, "multi-player games released in 2019").values
    assert got == {"year": 2019, "multiplayer": True}
    clock = _op(
        {
            "city": {"type": "string", "description": "The city."},
            "country": {"type": "string", "description": "The country."},
        }
    )
    got = fill(clock, "What time is it in Lyon, France in 24 hour format?").values
    assert got == {"city": "Lyon", "country": "France"}


def test_bound_words_are_no_distance_and_two_name_words_beat_one() -> None:
    house = _op(
        {
            "where_to": {"type": "string", "description": "City, State."},
            "rating": {"type": "number", "description": "The minimum review rating."},
        },
        ["where_to"],
    )
    got = fill(house, "a house in Long Beach with a review rating of at least 4.2").values
    assert got == {"where_to": "Long Beach, CA", "rating": 4.2}
    growth = _op(
        {
            "initial_value": {"type": "integer", "description": "Start value."},
            "final_value": {"type": "integer", "description": "End value."},
            "years": {"type": "integer", "description": "Years."},
        }
    )
    got = fill(growth, "growth from an initial sum of $500, final value of $900 over 3 years")
    assert got.values == {"initial_value": 500, "final_value": 900, "years": 3}


def test_a_party_said_without_a_number() -> None:
    op = _op(
        {
            "where_to": {"type": "string", "description": "City."},
            "number_of_adults": {"type": "integer", "description": "Adults."},
        },
        ["where_to"],
    )
    got = fill(op, "a house in Leeds, it's just for myself").values
    assert got == {"where_to": "Leeds", "number_of_adults": 1}
    got = fill(op, "a house in Leeds for me and my wife").values
    assert got == {"where_to": "Leeds", "number_of_adults": 2}
    assert fill(op, "a house in Leeds").values == {"where_to": "Leeds"}


def test_an_optional_place_and_seconds_and_zone_as_written() -> None:
    op = _op(
        {
            "units": {"type": "string", "description": "Unit.", "enum": ["Celsius", "Kelvin"]},
            "location": {"type": "string", "description": "'City, Country'."},
        },
        ["units"],
    )
    got = fill(op, "the temperature in Pune, India, in Celsius?").values
    assert got == {"units": "Celsius", "location": "Pune, India"}
    move = _op(
        {
            "event": {"type": "string", "description": "The event."},
            "when": {"type": "string", "description": "ISO-8601, 'YYYY-MM-DDTHH:MM:SSZ'."},
            "at_date": {"type": "string", "description": "As 'YYYY-MM-DD HH:MM:SS'."},
        },
        ["event", "when"],
    )
    got = fill(move, "Move event 'gym-1' to November 1, 2023 at 4pm").values
    assert got["when"] == "2023-11-01T16:00:00Z"


def test_the_kind_of_a_type_parameter() -> None:
    van = _op(
        {
            "distance": {"type": "integer", "description": "Miles a year."},
            "fuel_type": {"type": "string", "description": "Type of fuel."},
        }
    )
    got = fill(van, "CO2 from a diesel-fueled van that travels 9,000 miles per year").values
    assert got == {"distance": 9000, "fuel_type": "diesel"}
    saving = _op(
        {
            "energy_type": {"type": "string", "description": "Kind of energy."},
            "months": {"type": "integer", "description": "Months."},
        }
    )
    got = fill(saving, "savings if I switched to solar energy for 6 months").values
    assert got == {"energy_type": "solar", "months": 6}
    room = from_function_doc(
        {
            "name": "hotel_booking.book",
            "description": "Book a room.",
            "parameters": {
                "type": "dict",
                "properties": {
                    "city": {"type": "string", "description": "City."},
                    "room_type": {"type": "string", "description": "Kind of room."},
                },
                "required": ["city"],
            },
        }
    )
    assert fill(room, "Book a hotel room in Oslo").values == {"city": "Oslo"}  # "hotel": the call


def test_a_count_per_year_is_not_a_year() -> None:
    op = _op(
        {
            "present_value": {"type": "integer", "description": "Money now."},
            "years": {"type": "integer", "description": "Term in years."},
            "compounds_per_year": {"type": "integer", "description": "Times a year."},
        },
        ["present_value", "years"],
    )
    got = fill(op, "Future value of $5000 invested today for 10 years").values
    assert got == {"present_value": 5000, "years": 10}


def test_check_in_and_check_out_are_dates_when_their_description_says_so() -> None:
    op = _op(
        {
            "city": {"type": "string", "description": "City."},
            "check_in": {"type": "string", "description": "Check-in date, YYYY-MM-DD."},
            "check_out": {"type": "string", "description": "Check-out date, YYYY-MM-DD."},
        }
    )
    got = fill(op, "a room in Oslo, check in on 05/10/2023 and check out on 05/15/2023").values
    assert got == {"city": "Oslo", "check_in": "2023-05-10", "check_out": "2023-05-15"}


def test_a_year_said_is_the_value_of_a_year_enum() -> None:
    op = _op(
        {
            "year": {
                "type": "string",
                "enum": ["2019", "2020", "2021", "dontcare"],
                "description": "Release year; use 'dontcare' for no specific year preference.",
            },
            "limit": {"type": "integer", "description": "How many to list."},
        },
        required=[],
    )
    assert fill(op, "albums released in 2020").values == {"year": "2020"}
    # a bare small number is still not taken for a value said in words ("5=May")
    month = _op(
        {
            "month": {
                "type": "integer",
                "enum": [4, 5],
                "description": "The month: 4=April, 5=May.",
            },
            "limit": {"type": "integer", "description": "How many days to list."},
        },
        required=[],
    )
    assert fill(month, "the 5 hottest days").values.get("month") is None


def test_people_said_count_seats_and_tickets() -> None:
    op = _op(
        {
            "venue": {"type": "string", "description": "Where to book."},
            "number_of_seats": {"type": "integer", "description": "Seats to reserve."},
        },
        required=["venue"],
    )
    assert fill(op, "a table at Chez Nous at 19:30 for 4 people").values["number_of_seats"] == 4


def test_a_one_word_artist_after_by() -> None:
    op = _op(
        {
            "artist": {"type": "string", "description": "The artist or band."},
            "genre": {"type": "string", "description": "The genre."},
        },
        required=[],
    )
    assert fill(op, "play metal songs by Sabaton").values.get("artist") == "Sabaton"
    assert fill(op, "songs by Harris J, from the Salam album").values.get("artist") == "Harris J"
    # a day or month after "by" is no artist
    assert fill(op, "songs I can learn by Friday").values.get("artist") is None


def test_a_number_that_counts_another_parameter_is_not_an_enum_value() -> None:
    op = _op(
        {
            "star_rating": {
                "type": "string",
                "enum": ["1", "2", "3", "4", "5", "dontcare"],
                "description": "The hotel's stars.",
            },
            "number_of_rooms": {"type": "integer", "description": "Rooms to book."},
        },
        required=[],
    )
    got = fill(op, "a 4-star hotel with two rooms").values
    assert got["star_rating"] == "4" and got["number_of_rooms"] == 2
    assert "star_rating" not in fill(op, "a hotel with 1 room").values


def test_a_quote_goes_to_the_parameter_named_right_beside_it() -> None:
    op = _op(
        {
            "host": {"type": "string", "description": "Host name or address."},
            "database": {
                "type": "string",
                "description": "Database to connect to, default 'postgres'.",
            },
            "username": {"type": "string", "description": "Login name."},
            "password": {"type": "string", "description": "Login secret."},
        }
    )
    got = fill(
        op,
        "Add a postgres login on host 'db1', with 'ann_k' as username and 'x*9' as the password",
    )
    assert got.values["username"] == "ann_k"
    assert got.values["password"] == "x*9"
    # said before the quote ("should be"), and a value the description names ("postgres")
    # does not take the parameter whose quote is right there
    got = fill(op, "A Postgres server: the database should be 'sales', the username will be 'bo'")
    assert got.values["database"] == "sales"
    assert got.values["username"] == "bo"


def test_strings_named_by_dash_by_as_their_and_by_my_name_is() -> None:
    todo = _op(
        {
            "action": {"type": "string", "enum": ["add", "remove"], "description": "What to do."},
            "content": {
                "type": "string",
                "description": "The item's text. For 'remove', the item to take away.",
            },
        }
    )
    # a dash after the parameter's name: the rest of the sentence is the value; a value the
    # description names for another parameter's enum ('remove') is not this one's
    assert fill(todo, "remove the note with content - buy milk and eggs").values == {
        "action": "remove",
        "content": "buy milk and eggs",
    }
    user = _op(
        {
            "user_id": {"type": "integer", "description": "The user's id."},
            "favourite": {"type": "string", "description": "Their favourite colour."},
        }
    )
    got = fill(user, "the user with id 7890, who has teal as their favourite colour")
    assert got.values == {"user_id": 7890, "favourite": "teal"}
    greet = _op(
        {
            "sender_name": {"type": "string", "description": "The name of the user sending it."},
            "friend_name": {"type": "string", "description": "The name of the friend."},
        }
    )
    got = fill(greet, "write a note to my old friend, Omar? My name is Lena.")
    assert got.values == {"sender_name": "Lena", "friend_name": "Omar"}


def test_a_country_is_written_as_its_code_where_the_description_shows_one() -> None:
    coded = _op(
        {
            "location": {
                "type": "string",
                "description": "The city, as 'City, State' or 'City, Country', e.g. "
                "'Austin, TX' or 'Oslo, NO'.",
            }
        }
    )
    assert fill(coded, "hotels in Lyon, France").values == {"location": "Lyon, FR"}
    assert fill(coded, "hotels in Nairobi").values == {"location": "Nairobi, KE"}
    # 'CA' is a state's code too: an example of a state alone asks for no country code
    named = _op(
        {
            "location": {
                "type": "string",
                "description": "The city, as 'City, State', e.g. 'Fresno, CA'.",
            }
        }
    )
    assert fill(named, "hotels in Lyon, France").values == {"location": "Lyon, France"}


def test_a_range_said_fills_both_days_of_a_stay() -> None:
    stay = _op(
        {
            "city": {"type": "string", "description": "Where."},
            "check_in_date": {"type": "string", "description": "First night, MM/DD/YYYY."},
            "check_out_date": {"type": "string", "description": "Day of leaving, MM/DD/YYYY."},
        }
    )
    got = fill(stay, "a room in Austin from 05/12/2023 to 05/18/2023").values
    assert got["check_in_date"] == "05/12/2023" and got["check_out_date"] == "05/18/2023"
    # one day said: the stay begins then, its end is not guessed
    got = fill(stay, "a room in Austin on 05/12/2023").values
    assert got["check_in_date"] == "05/12/2023" and "check_out_date" not in got


def test_a_list_of_named_choices_takes_every_choice_said_in_order() -> None:
    op = _op(
        {
            "player": {"type": "string", "description": "The player's name."},
            "stats": {
                "type": "array",
                "items": {"type": "string", "enum": ["Points", "Rebounds", "Assists", "All"]},
                "description": "Which numbers to get.",
            },
            "lessons": {
                "type": "array",
                "items": {"type": "string", "enum": ["Violin Lessons", "Piano Lessons"]},
                "description": "Lessons the shop offers.",
            },
            "sold": {
                "type": "array",
                "items": {"type": "string", "enum": ["Violins", "Pianos"]},
                "description": "Instruments the shop sells.",
            },
        },
        required=["player"],
    )
    got = fill(op, "rebound and point stats for player 'Ann Lee'").values
    assert got == {"player": "Ann Lee", "stats": ["Rebounds", "Points"]}
    # words taken by one choice ("violin lessons") are not another's ("violins")
    got = fill(op, "a shop for player 'Bo' with violin lessons that sells pianos").values
    assert got["lessons"] == ["Violin Lessons"] and got["sold"] == ["Pianos"]
