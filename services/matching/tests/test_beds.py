from __future__ import annotations

import pytest

from services.matching.domain.beds import Bed, IllegalBedMove, check_manual_move, choose_pathway_bed


def test_a_live_home_with_a_vacancy_has_its_first_vacant_bed_as_the_pathway_bed():
    beds = [Bed("b2", "Bed 2", "vacant"), Bed("b1", "Bed 1", "vacant")]
    assert choose_pathway_bed(beds, live=True) == "b1"
    assert choose_pathway_bed(beds, live=False) is None


def test_a_reserved_pathway_bed_stays_the_pathway_bed():
    beds = [Bed("b1", "Bed 1", "reserved", True), Bed("b2", "Bed 2", "vacant")]
    assert choose_pathway_bed(beds, live=True) == "b1"


def test_the_bed_freed_by_an_ending_becomes_the_next_pathway_bed():
    beds = [Bed("b1", "Bed 1", "occupied"), Bed("b2", "Bed 2", "occupied"), Bed("b3", "Bed 3", "vacant")]
    assert choose_pathway_bed(beds, live=True, freed="b3") == "b3"
    full = [Bed("b1", "Bed 1", "occupied"), Bed("b2", "Bed 2", "occupied")]
    assert choose_pathway_bed(full, live=True) is None


def test_occupied_beds_cannot_be_taken_out_of_service_by_hand():
    check_manual_move("vacant", "out_of_service")
    with pytest.raises(IllegalBedMove) as exc:
        check_manual_move("occupied", "out_of_service")
    assert exc.value.allowed == ()
