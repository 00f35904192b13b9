"""The canary rule: a canary is judged only once it answered enough, rolled back when its error
rate or latency is worse than the stable version's by more than allowed, promoted after enough
healthy answers only where that is configured."""

from __future__ import annotations

from labworks_hub.service.serving.traffic import CanaryRule, Traffic


def traffic(requests: int, errors: int = 0, seconds: float = 0.01) -> Traffic:
    t = Traffic()
    for n in range(requests):
        t.add(seconds, n >= errors)
    return t


def test_a_canary_is_not_judged_before_it_answered_enough():
    assert CanaryRule(min_requests=20).judge(traffic(100), traffic(19, errors=19)) is None


def test_a_canary_that_fails_more_than_the_stable_version_is_rolled_back():
    verdict = CanaryRule(min_requests=20).judge(traffic(100, errors=1), traffic(20, errors=5))
    assert verdict is not None and verdict[0] == "rollback"
    assert "error rate 25.0% over 20 requests" in verdict[1] and "1.0%" in verdict[1]


def test_a_small_error_margin_is_allowed():
    rule = CanaryRule(min_requests=20, max_error_margin=0.05)
    assert rule.judge(traffic(100, errors=2), traffic(100, errors=6)) is None


def test_a_slow_canary_is_rolled_back():
    verdict = CanaryRule(max_latency_ratio=2.0).judge(traffic(50), traffic(30, seconds=0.05))
    assert verdict is not None and verdict[0] == "rollback" and "latency" in verdict[1]


def test_a_healthy_canary_is_promoted_only_where_configured():
    assert CanaryRule().judge(traffic(100), traffic(500)) is None
    verdict = CanaryRule(promote_after=200).judge(traffic(100), traffic(200))
    assert verdict is not None and verdict[0] == "promote"


def test_the_live_figures_cover_the_last_minute():
    figures = traffic(10, errors=2, seconds=0.004).figures()
    assert figures["requests"] == 10 and figures["errors"] == 2
    assert figures["error_rate"] == 0.2 and figures["p50_ms"] == 4.0
