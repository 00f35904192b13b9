import type { TranslationBundle } from '@jupyterlab/translation';

import { formatCost } from '../../common/cost';
import type { IBudget, IRunningSubject, ISummary } from './types';

/**
 * Hours with one decimal, fewer for whole numbers: 9.25 -> "9.3".
 */
export function formatHours(hours: number): string {
  return hours === 0 ? '0' : hours < 0.1 ? hours.toFixed(3) : hours.toFixed(1);
}

/**
 * This workspace among the summary's running work, or `null` while the meter
 * has not sampled it (or outside JupyterHub).
 */
export function thisWorkspace(summary: ISummary): IRunningSubject | null {
  if (summary.workspace === null) {
    return null;
  }
  return (
    summary.running.find(
      s => s.kind === 'workspace' && s.id === summary.workspace
    ) ?? null
  );
}

/**
 * The status-bar meter's text: this workspace's burn rate (all running work's
 * until the meter has sampled it), today's and this month's spend, and its
 * GPUs' utilization where it has any:
 * "$0.12/h · today $1.40 · month $23.10 · GPU 45%".
 */
export function meterText(summary: ISummary, trans: TranslationBundle): string {
  const money = (value: number) => formatCost(value, summary.currency);
  const workspace = thisWorkspace(summary);
  const parts = [
    trans.__('%1/h', money(workspace?.burn_per_hour ?? summary.burn_per_hour)),
    trans.__('today %1', money(summary.today_usd)),
    trans.__('month %1', money(summary.month_usd))
  ];
  const gpu = workspace?.gpu_utilization ?? null;
  if (gpu !== null) {
    parts.push(trans.__('GPU %1%', Math.round(gpu)));
  }
  return parts.join(' · ');
}

/**
 * The meter's tooltip: what each figure is, and everything of the person's
 * that runs now with its burn rate.
 */
export function meterTitle(
  summary: ISummary,
  trans: TranslationBundle
): string {
  const money = (value: number) => formatCost(value, summary.currency);
  const workspace = thisWorkspace(summary);
  const lines = [
    workspace
      ? trans.__(
          'This workspace costs %1 an hour',
          money(workspace.burn_per_hour)
        )
      : trans.__('This workspace has not been metered yet'),
    trans.__('All your running work: %1 an hour', money(summary.burn_per_hour)),
    ...summary.running.map(s =>
      trans.__(
        '  %1 %2 (%3): %4/h',
        s.kind,
        s.name,
        s.profile,
        money(s.burn_per_hour)
      )
    ),
    trans.__('Spent today: %1 (UTC)', money(summary.today_usd)),
    trans.__('Spent this month: %1', money(summary.month_usd)),
    ...summary.budgets.map(b => budgetLine(b, summary.currency, trans)),
    trans.__('Click to open the Cost panel')
  ];
  return lines.join('\n');
}

/**
 * One budget in words: "group ml: $812.40 of $2,000.00 (41%)".
 */
export function budgetLine(
  budget: IBudget,
  currency: string,
  trans: TranslationBundle
): string {
  return trans.__(
    '%1 %2: %3 of %4 (%5%)',
    budget.scope,
    budget.name,
    formatCost(budget.spent_usd, currency),
    formatCost(budget.monthly_usd, currency),
    Math.round(budget.percent)
  );
}
