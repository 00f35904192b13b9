import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useMemo } from 'react';
import uPlot from 'uplot';

import { formatCost } from '../../common/cost';
import { themeColor, themedAxis, useUPlot } from '../../common/uplot';
import { dailySeries } from './model';
import type { IReport } from './types';

/**
 * The height of the chart's plot, in pixels.
 */
export const CHART_HEIGHT = 160;

/**
 * A month's spend by day as bars (uPlot, as the Experiments panel's charts),
 * following its container's width and the theme's colors.
 */
export function DailyChart(props: {
  report: IReport;
  trans: TranslationBundle;
}): JSX.Element {
  const { report, trans } = props;
  const data = useMemo(() => dailySeries(report), [report]);
  const host = useUPlot(
    width => options(report, trans, width),
    data,
    `${report.month} ${report.currency}`,
    CHART_HEIGHT
  );
  return (
    <div
      ref={host}
      className="jp-Labworks-costChart"
      data-testid="labworks-cost-chart"
      role="img"
      aria-label={trans.__(
        'Spend by day in %1: %2 in all',
        report.month,
        formatCost(report.total_usd, report.currency)
      )}
    />
  );
}

function options(
  report: IReport,
  trans: TranslationBundle,
  width: number
): uPlot.Options {
  const bar = themeColor('--jp-brand-color1', '#1976d2');
  const axis = themedAxis();
  const money = (value: number) => formatCost(value, report.currency);
  const days = dailySeries(report)[0].length;
  return {
    width,
    height: CHART_HEIGHT,
    scales: {
      x: { time: false, range: [0.5, days + 0.5] },
      y: {
        range: (_: uPlot, __: number, max: number) => [
          0,
          max > 0 ? max * 1.1 : 1
        ]
      }
    },
    axes: [
      {
        ...axis,
        splits: () => Array.from({ length: days }, (_, i) => i + 1),
        values: (_: uPlot, splits: number[]) =>
          splits.map(day => (day === 1 || day % 5 === 0 ? String(day) : ''))
      },
      {
        ...axis,
        size: 64,
        values: (_: uPlot, splits: number[]) => splits.map(money)
      }
    ],
    legend: { show: false },
    cursor: { drag: { x: false, y: false } },
    series: [
      { label: trans.__('Day') },
      {
        label: trans.__('Spend'),
        stroke: bar,
        fill: bar,
        width: 1,
        points: { show: false },
        value: (_: uPlot, value: number | null) =>
          value === null ? '' : money(value),
        paths: uPlot.paths.bars!({ size: [0.7, 24] })
      }
    ]
  };
}
