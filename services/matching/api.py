"""Matching's routes: homes (onboarding, beds, residents), the impact risk assessment, decisions."""
from fastapi import APIRouter

from . import admissions, homes, matches

router = APIRouter()
router.include_router(homes.router)
router.include_router(matches.router)
router.include_router(admissions.router)
