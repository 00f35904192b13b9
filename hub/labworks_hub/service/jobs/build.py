"""The job service and artifact store as the platform service builds them from its settings
(what `labworks up` hands over), apart from the service itself."""

from __future__ import annotations

from traitlets import import_item
from traitlets.config import Config

from ...catalog import ImageCatalog
from ...profiles import DEFAULT_PROFILES, parse_profiles
from ..hubapi import HubTokens
from ..settings import ServiceSettings
from ..store import Store
from .artifacts import ArtifactStore
from .service import JobService


def build_artifact_store(settings: ServiceSettings) -> ArtifactStore:
    """The platform's one artifact store (jobs, datasets, tracking), as the operator configured
    it: the class `c.JobService.artifact_store_class`, its settings `c.ArtifactStore`."""
    config = Config(settings.jobs_config)
    chosen = config.JobService.get("artifact_store_class", ArtifactStore)
    store_class = import_item(chosen) if isinstance(chosen, str) else chosen
    return store_class(config=config, state_dir=settings.state_dir)


def build_job_service(
    settings: ServiceSettings, store_: Store, artifacts: ArtifactStore
) -> JobService:
    """The job service of the platform service: its config sections, profiles and catalog as
    `labworks up` hands them over (ServiceSettings), the state directory for local files."""
    config = Config(settings.jobs_config)
    profiles = parse_profiles(settings.profiles) if settings.profiles else list(DEFAULT_PROFILES)
    catalog = ImageCatalog(**settings.image_catalog) if settings.image_catalog else None
    hub = HubTokens(settings.hub_api_url, settings.api_token) if settings.api_token else None
    service = JobService(
        store_, profiles, config=config, catalog=catalog, state_dir=settings.state_dir, hub=hub,
        artifacts=artifacts,
    )  # fmt: skip
    if not service.api_url:  # the address this service listens on, unless configured
        service.api_url = f"http://{settings.host}:{settings.port}{settings.api_prefix}"
    return service
