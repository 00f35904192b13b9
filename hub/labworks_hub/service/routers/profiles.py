"""The workspace profiles jobs run on, over REST: what each gives (CPU, memory, GPUs), which
one a job gets when none is named, and whether the caller can run jobs on it here.

A profile is unavailable for jobs when it is limited to groups the caller is not in, or when
the job executor could never give it what it needs (a GPU profile where jobs have no GPU).
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from ...profiles import unavailable_reason
from ..auth import Caller, current_caller
from ..jobs.service import JobService
from .jobs_common import job_service

router = APIRouter(tags=["profiles"])


class JobProfile(BaseModel):
    name: str
    display_name: str
    description: str
    cpu_limit: float | None = Field(description="CPU cores; null: not limited.")
    mem_limit: int | None = Field(description="Memory in bytes; null: not limited.")
    gpu_count: int
    gpu_model: str = Field(description="The GPU model it asks for; empty: any.")
    default: bool = Field(description="The profile a job runs on when it names none.")
    available: bool = Field(description="Whether the caller can run jobs on it here.")
    reason: str | None = Field(description="Why it is not available; null when it is.")


class ProfileList(BaseModel):
    profiles: list[JobProfile]


@router.get("/profiles", response_model=ProfileList)
async def list_profiles(
    caller: Caller = Depends(current_caller), service: JobService = Depends(job_service)
) -> ProfileList:
    """The workspace profiles, in the configured order, each with whether the caller can run
    jobs on it here and, if not, why."""
    groups = set(caller.groups)
    listed = []
    for index, profile in enumerate(service.profiles):
        reason = unavailable_reason(profile, groups, None) or service.cannot_run(profile)
        listed.append(
            JobProfile(
                name=profile.name,
                display_name=profile.display_name,
                description=profile.description,
                cpu_limit=profile.cpu_limit,
                mem_limit=profile.mem_limit,
                gpu_count=profile.gpu_count,
                gpu_model=profile.gpu_model,
                default=index == 0,
                available=reason is None,
                reason=reason,
            )
        )
    return ProfileList(profiles=listed)
