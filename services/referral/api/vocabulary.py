"""GET /v1/referrals/vocabulary: the codes a referral uses (reference data, no child records)."""
from __future__ import annotations

from fastapi import APIRouter

from libs.common.councils import councils as council_codes
from libs.common.vocabulary import (AT_RISK, CATEGORIES_OF_NEED, COUNCILS, CURRENT_SETTINGS, DEPRECATED,
                                    HOME_SPECIALISMS, NEEDS_AND_RISKS, REGISTRATION_CATEGORIES, SEVERITIES, SEX_CODES)

from ..domain import placements_standard as ps
from ..domain.referral import LEGAL_STATUSES, MAX_NEEDS, MAX_RISKS, URGENCIES
from ..schemas import Vocabulary, VocabularyTerm
from ._common import Reader

router = APIRouter(prefix="/v1/referrals", tags=["referrals"])


@router.get("/vocabulary", response_model=Vocabulary, summary="The codes a referral uses")
async def vocabulary(principal: Reader) -> Vocabulary:
    """Needs and risks (one controlled vocabulary, shared with matching), severities, looked-after
    children legal status codes and urgencies, how many needs and risks a referral may list (each
    code once), outreach's current settings and at-risk codes, and the homes' vocabularies (specialisms, registered
    categories) and council names; the Placements Data Standard v2 mapping both ways (each standard option to our
    code, each code back)."""
    return Vocabulary(needs_and_risks=[VocabularyTerm(code=t.code, label=t.label, group=t.group)
                                       for t in NEEDS_AND_RISKS.values()],
                      severities=list(SEVERITIES), legal_statuses=LEGAL_STATUSES, urgencies=list(URGENCIES),
                      max_needs=MAX_NEEDS, max_risks=MAX_RISKS,
                      home_specialisms=[VocabularyTerm(code=t.code, label=t.label, group=t.group)
                                        for t in HOME_SPECIALISMS.values()],
                      registration_categories=[VocabularyTerm(code=t.code, label=t.label, group=t.group)
                                               for t in REGISTRATION_CATEGORIES.values()],
                      councils=dict(COUNCILS), council_codes=council_codes(), sexes=dict(SEX_CODES),
                      categories_of_need=dict(CATEGORIES_OF_NEED), current_settings=dict(CURRENT_SETTINGS),
                      at_risk=[VocabularyTerm(code=t.code, label=t.label, group=t.group) for t in AT_RISK.values()],
                      deprecated_codes={k: list(v) for k, v in DEPRECATED.items()},
                      placements_standard={
                          "standard": {"name": ps.STANDARD_NAME, "version": ps.STANDARD_VERSION,
                                       "effective_date": ps.STANDARD_EFFECTIVE, "source": ps.STANDARD_SOURCE,
                                       "required_on_intake": list(ps.REQUIRED_ON_INTAKE),
                                       "urgency_of_needed_by": ps.URGENCY_OF_NEEDED_BY},
                          "fields": ps.mapping(), "to_standard": ps.codes_to_standard()})
