"""Every route of the city's pages, for `install_site`."""

from __future__ import annotations

from fastapi import APIRouter

from . import dashboard, evidence, pages, profile, report

router = APIRouter(include_in_schema=False)
router.include_router(dashboard.router)
router.include_router(pages.router)
router.include_router(evidence.router)
router.include_router(report.router)
router.include_router(profile.router)
