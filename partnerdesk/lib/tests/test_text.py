import pytest
from django.core.exceptions import ValidationError

from partnerdesk.lib.text import refuse_hidden_characters


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
