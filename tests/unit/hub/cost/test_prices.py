"""Prices: what a profile reserves times the table, spot discounts, GPU models, overrides."""

from __future__ import annotations

import pytest
from traitlets import TraitError
from traitlets.config import Config

from labworks_hub.prices import HOURS_PER_MONTH, CostPrices
from labworks_hub.profiles import DEFAULT_PROFILES, GiB, Profile


def test_a_profile_costs_what_it_reserves_at_the_table_prices():
    prices = CostPrices(cpu_core_hour=0.04, memory_gb_hour=0.01, disk_gb_month=0.73)
    profile = Profile(name="p", display_name="P", cpu_limit=4.0, mem_limit=8 * GiB,
                      disk_limit=100 * GiB)  # fmt: skip
    expected = 4 * 0.04 + 8 * 0.01 + 100 * 0.73 / HOURS_PER_MONTH
    assert prices.profile_price(profile) == pytest.approx(expected)


def test_gpus_are_priced_by_model_with_a_default():
    prices = CostPrices(gpu_hour={"default": 2.0, "H100": 4.0}, cpu_core_hour=0,
                        memory_gb_hour=0)  # fmt: skip
    h100 = Profile(name="h", display_name="H", gpu_count=2, gpu_model="NVIDIA H100 80GB HBM3")
    anything = Profile(name="a", display_name="A", gpu_count=1)
    assert prices.profile_price(h100) == pytest.approx(8.0)
    assert prices.profile_price(anything) == pytest.approx(2.0)
    assert prices.gpu_price("nvidia-h100-80gb-hbm3") == 4.0  # GPU feature discovery's name


def test_spot_profiles_get_the_discount():
    prices = CostPrices(spot_discount=0.7)
    on_demand = Profile(name="o", display_name="O", cpu_limit=8.0, mem_limit=32 * GiB)
    spot = Profile(name="s", display_name="S", cpu_limit=8.0, mem_limit=32 * GiB, spot=True)
    assert prices.profile_price(spot) == pytest.approx(prices.profile_price(on_demand) * 0.3)


def test_an_explicit_price_per_hour_overrides_and_limits_default():
    prices = CostPrices(unlimited_cpu=1.0, unlimited_memory_gb=2.0)
    assert prices.profile_price(DEFAULT_PROFILES[0]) == DEFAULT_PROFILES[0].price_per_hour
    unlimited = Profile(name="u", display_name="U")
    assert prices.profile_price(unlimited) == pytest.approx(0.035 + 2 * 0.005)
    assert prices.profile_price(None) == prices.profile_price(unlimited)  # a deployment


def test_prices_come_from_config_and_bad_ones_are_refused():
    config = Config({"CostPrices": {"cpu_core_hour": 1.0, "currency": "EUR"}})
    prices = CostPrices(config=config)
    assert (prices.cpu_core_hour, prices.currency) == (1.0, "EUR")
    with pytest.raises(TraitError, match="spot_discount"):
        CostPrices(spot_discount=1.5)
    with pytest.raises(TraitError, match="default"):
        CostPrices(gpu_hour={"H100": 4.0})
