import type { IPriceList } from '../cost';

/**
 * Prices as /labworks/cost/prices sends them: cpu-small computed from what
 * it reserves, cpu-large with its own price.
 */
export function samplePrices(): IPriceList {
  return {
    currency: 'USD',
    prices: { cpu_core_hour: 0.1, memory_gb_hour: 0.05 },
    profiles: [
      {
        name: 'cpu-small',
        display_name: 'CPU small',
        per_hour: 0.4,
        computed: true
      },
      {
        name: 'cpu-large',
        display_name: 'CPU large',
        per_hour: 2.5,
        computed: false
      }
    ]
  };
}
