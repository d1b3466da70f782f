import pytest
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from neighbourhoods import postcodes


@pytest.mark.parametrize(
    ("typed", "expected"),
    [("b11aa", "B1 1AA"), (" cf10 1ep ", "CF10 1EP"), ("SW1A  2AA", "SW1A 2AA"), ("gir0aa", "GIR 0AA")],
)
def test_postcodes_are_normalised(typed, expected):
    assert postcodes.normalise(typed) == expected
    assert postcodes.is_valid(expected)


@pytest.mark.parametrize("typed", ["", "12345", "B1", "QQ1 1AA", "B1 1CA", "CF10 IEP", "hello world", "B11 AA1"])
def test_invalid_postcodes_are_refused(typed):
    assert not postcodes.is_valid(postcodes.normalise(typed))


@given(st.text(max_size=20))
def test_normalising_never_fails_and_is_idempotent(text):
    once = postcodes.normalise(text)
    assert postcodes.normalise(once) == once


@pytest.mark.django_db
def test_the_finder_explains_a_bad_postcode_and_keeps_it(client):
    response = client.get(reverse("neighbourhoods:find"), {"postcode": "CF10 IEP"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "Enter a real UK postcode" in html
    assert 'value="CF10 IEP"' in html
    assert 'aria-invalid="true"' in html


@pytest.mark.django_db
def test_the_finder_normalises_a_good_postcode(client):
    response = client.get(reverse("neighbourhoods:find"), {"postcode": "cf101ep"})
    assert response.status_code == 200
    assert response.context["result"].postcode == "CF10 1EP"
    assert "We are not in CF10 1EP yet" in response.content.decode()
