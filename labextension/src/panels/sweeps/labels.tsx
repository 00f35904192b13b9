import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { formatCost } from '../../common/cost';
import { formatDuration } from '../../common/format';
import type { SweepCosts } from './costs';
import { ISweep, trialsDone } from './types';

/**
 * A sweep's status, as a badge coloured by CSS.
 */
export function StatusBadge(props: {
  status: ISweep['status'];
  trans: TranslationBundle;
}): JSX.Element {
  const { status, trans } = props;
  const labels: Record<ISweep['status'], string> = {
    running: trans.__('running'),
    stopped: trans.__('stopped'),
    succeeded: trans.__('succeeded'),
    failed: trans.__('failed')
  };
  return (
    <span className={`jp-Labworks-sweepStatus jp-mod-${status}`}>
      {labels[status]}
    </span>
  );
}

/**
 * "done/trials": completed and pruned trials against those asked.
 */
export function progressText(sweep: ISweep): string {
  return `${trialsDone(sweep)}/${sweep.trials}`;
}

/**
 * An objective value with four significant digits; "–" when there is none.
 */
export function formatValue(value: number | null | undefined): string {
  if (value === null || value === undefined) {
    return '–';
  }
  return String(Number(value.toPrecision(4)));
}

/**
 * The time left of a running sweep; "–" otherwise or when unknown.
 */
export function etaText(sweep: ISweep, trans: TranslationBundle): string {
  if (sweep.status !== 'running' || sweep.eta_seconds === null) {
    return '–';
  }
  return formatDuration(sweep.eta_seconds, trans, 2) || trans.__('< 1 s');
}

/**
 * What a sweep cost so far ("$1.20"), "—" when no report has it.
 */
export function costText(costs: SweepCosts, sweepId: string): string {
  const cost = costs.costOf(sweepId);
  return cost === undefined ? '—' : formatCost(cost, costs.currency);
}
