"""What resources cost: the price table (`c.CostPrices`) and each profile's price per hour.

A profile's price per hour is what it reserves times the table's prices: CPU cores, memory
GiB, GPUs (by model: the first key of `gpu_hour` that names the profile's GPU model, else
`default`) and scratch disk (its GB-month price over the hours of a month), less the spot
discount on spot profiles. A profile that sets `price_per_hour` (above zero) costs that
instead: the operator's override.
"""

from __future__ import annotations

from dataclasses import dataclass

from traitlets import Dict, Float, TraitError, Unicode, validate
from traitlets.config import LoggingConfigurable

from .profiles import GiB, Profile, gpu_model_matches

HOURS_PER_MONTH = 730.0  # 365 * 24 / 12, as cloud providers count a month


@dataclass(frozen=True)
class Reserved:
    """What a subject holds while it runs, as billed: cores, bytes, GPUs of a model."""

    cpu: float
    memory: int
    gpus: int = 0
    gpu_model: str = ""
    disk: int = 0
    spot: bool = False


class CostPrices(LoggingConfigurable):
    """The price table. Defaults are on-demand cloud list prices, rounded (docs/admin/costs.md):
    a general-purpose vCPU with its share of memory costs about $0.03-0.05 an hour, block
    storage $0.10 a GB-month, and GPUs from $0.50 (T4) to $4 (H100) an hour."""

    currency = Unicode("USD", help="The currency of the prices (shown with every amount).").tag(
        config=True
    )
    cpu_core_hour = Float(0.035, help="Price of one CPU core for an hour.").tag(config=True)
    memory_gb_hour = Float(0.005, help="Price of one GiB of memory for an hour.").tag(config=True)
    gpu_hour = Dict(
        value_trait=Float(),
        default_value={
            "default": 2.50,
            "T4": 0.50,
            "L4": 0.80,
            "A10": 1.10,
            "A100": 3.00,
            "H100": 4.00,
            "H200": 5.00,
        },
        help="Price of one GPU for an hour, by GPU model (a part of its name, e.g. `H100`);"
        " `default` for any other model and for profiles that name none.",
    ).tag(config=True)
    disk_gb_month = Float(0.10, help="Price of one GiB of scratch disk for a month.").tag(
        config=True
    )
    spot_discount = Float(
        0.6, help="Fraction taken off the price of spot profiles (0.6: they cost 40%)."
    ).tag(config=True)
    unlimited_cpu = Float(
        1.0, help="Cores a profile with no CPU limit (and a deployment) is billed for."
    ).tag(config=True)
    unlimited_memory_gb = Float(
        2.0, help="GiB a profile with no memory limit (and a deployment) is billed for."
    ).tag(config=True)

    @validate("spot_discount")
    def _check_discount(self, proposal):
        if not 0 <= proposal.value < 1:
            raise TraitError(f"spot_discount must be at least 0 and below 1, not {proposal.value}")
        return proposal.value

    @validate("gpu_hour")
    def _check_gpu_hour(self, proposal):
        if "default" not in proposal.value:
            raise TraitError("gpu_hour needs a `default` price")
        if any(price < 0 for price in proposal.value.values()):
            raise TraitError("gpu_hour prices must be >= 0")
        return proposal.value

    def gpu_price(self, model: str) -> float:
        """The hourly price of one GPU of `model` (any part of its name matches a key)."""
        for key, price in self.gpu_hour.items():
            if key != "default" and model and gpu_model_matches(key, model):
                return price
        return self.gpu_hour["default"]

    def reserved(self, profile: Profile | None) -> Reserved:
        """What `profile` reserves, as billed (None: a deployment's defaults)."""
        default_memory = int(self.unlimited_memory_gb * GiB)
        if profile is None:
            return Reserved(self.unlimited_cpu, default_memory)
        return Reserved(
            cpu=profile.cpu_limit or self.unlimited_cpu,
            memory=profile.mem_limit or default_memory,
            gpus=profile.gpu_count,
            gpu_model=profile.gpu_model,
            disk=profile.disk_limit or 0,
            spot=profile.spot,
        )

    def per_hour(self, reserved: Reserved) -> float:
        """The hourly price of holding `reserved`."""
        price = (
            reserved.cpu * self.cpu_core_hour
            + reserved.memory / GiB * self.memory_gb_hour
            + reserved.gpus * self.gpu_price(reserved.gpu_model)
            + reserved.disk / GiB * self.disk_gb_month / HOURS_PER_MONTH
        )
        return price * (1 - self.spot_discount) if reserved.spot else price

    def profile_price(self, profile: Profile | None) -> float:
        """A profile's price per hour: its own `price_per_hour` when set, else computed."""
        if profile is not None and profile.price_per_hour > 0:
            return profile.price_per_hour
        return self.per_hour(self.reserved(profile))

    def table(self) -> dict[str, object]:
        """The price table as the API shows it."""
        return {
            "cpu_core_hour": self.cpu_core_hour,
            "memory_gb_hour": self.memory_gb_hour,
            "gpu_hour": dict(self.gpu_hour),
            "disk_gb_month": self.disk_gb_month,
            "spot_discount": self.spot_discount,
        }
