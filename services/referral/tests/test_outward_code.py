import pytest

from services.referral.domain.referral import InvalidPostcode, outward_code


@pytest.mark.parametrize("postcode,expected", [
    ("LE4 6AB", "LE4"), ("le4 6ab", "LE4"), ("LE46AB", "LE4"), ("SW1A 1AA", "SW1A"), ("M1 1AE", "M1"),
    ("B33 8TH", "B33"), ("CR2 6XH", "CR2"), ("DN55 1PT", "DN55"), ("EC1A 1BB", "EC1A"), ("LE4", "LE4"),
])
def test_only_the_outward_code_of_a_uk_postcode_is_kept(postcode, expected):
    assert outward_code(postcode) == expected


@pytest.mark.parametrize("postcode", ["", "12345", "NOT A POSTCODE", "Q1 1AA", "LE4 6A", "LE4 6ABC"])
def test_something_that_is_not_a_uk_postcode_is_refused(postcode):
    with pytest.raises(InvalidPostcode):
        outward_code(postcode)
