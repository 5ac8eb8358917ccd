import pytest
from django.core.exceptions import ValidationError

from partnerdesk.lib.text import ELLIPSIS, fill, fit, refuse_hidden_characters, shorten


@pytest.mark.parametrize(
    "value",
    ["Acme\u202eLtd", "Acme\u200bLtd", "Acme\u2066Ltd\u2069", "Bell\x07Ltd", "\ufeffAcme", "Acme\x00", "A\x85B"],
)
def test_hidden_control_and_direction_characters_are_refused(value):
    with pytest.raises(ValidationError) as caught:
        refuse_hidden_characters(value)
    assert caught.value.code == "hidden_characters"


@pytest.mark.parametrize(
    "value",
    [
        "Ünïcode Straße Ltd",
        "Zoë Émile",
        "1 High Street\r\nLeeds",
        "Col\tumn",
        "مطعم",
        "Ōsaka 株式会社",
        "D'Arcy & Sons",
    ],
)
def test_ordinary_text_in_any_script_and_address_lines_are_accepted(value):
    refuse_hidden_characters(value)


# --- Subjects made from names: shorten and fill ------------------------------------------------------------------


def test_shorten_leaves_text_that_fits_and_cuts_the_rest_with_an_ellipsis_at_a_words_end():
    assert shorten("Acme Ltd", 8) == "Acme Ltd"
    assert shorten("Acme Trading Ltd", 14) == "Acme Trading…"
    assert shorten("Acme Trading, Ltd", 15) == "Acme Trading…"  # no dangling comma
    assert shorten("A" * 300, 200) == "A" * 199 + ELLIPSIS  # one long word: cut inside it
    assert len(shorten("Pneumonoultramicroscopic Ltd", 20)) == 20  # the word's end is too far back: cut in the word


def test_fill_shortens_the_names_so_that_the_words_saying_what_happened_stay():
    practice, business = "P" * 200, "Bakers " * 28 + "Ltd"  # 200 and 199 characters
    subject = fill("{practice} transferred {business} to you", limit=200, practice=practice, business=business)
    assert len(subject) <= 200
    assert " transferred " in subject
    assert subject.endswith(f"{ELLIPSIS} to you")
    assert subject.startswith("P" * 80)
    short = fill("{practice} transferred {business} to you", limit=200, practice="Hartley LLP", business=business)
    assert short.startswith("Hartley LLP transferred Bakers")
    assert short.endswith(f"{ELLIPSIS} to you")
    assert len(short) <= 200
    assert fill("{name} added", limit=200, name="Payroll") == "Payroll added"


def test_fit_cuts_the_whole_when_the_words_alone_are_too_long():
    assert fit(lambda values: "x" * 300 + values["name"], {"name": "Acme"}, 200) == "x" * 199 + ELLIPSIS
