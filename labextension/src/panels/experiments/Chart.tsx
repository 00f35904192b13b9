import React from 'react';
import uPlot from 'uplot';

import { themedAxis, useUPlot } from '../../common/uplot';
import { runColor } from './chartData';

/**
 * The height of a chart's plot, in pixels.
 */
export const CHART_HEIGHT = 260;

/**
 * What a chart draws: an x axis and one series per run.
 */
export interface IChartProps {
  /** uPlot's data: x values, then one array per series. */
  data: (number | null)[][];
  /** The series' labels, in the order of `data[1..]`. */
  labels: string[];
  kind: 'lines' | 'bars';
  xLabel: string;
  yLabel: string;
  logScale?: boolean;
  /** What a screen reader says the chart shows. */
  title: string;
  testId: string;
}

/**
 * A uPlot chart that follows its container's width and the theme's colors.
 * It is made again when what it draws changes in kind, scale or series,
 * and only given the new data otherwise.
 */
export function Chart(props: IChartProps): JSX.Element {
  const shape = [
    props.kind,
    props.logScale,
    props.xLabel,
    props.yLabel,
    ...props.labels
  ].join('\u0000');
  const host = useUPlot(
    width => options(props, width),
    props.data as uPlot.AlignedData,
    shape,
    CHART_HEIGHT
  );
  return (
    <div
      ref={host}
      className="jp-Labworks-chart"
      data-testid={props.testId}
      role="img"
      aria-label={props.title}
    />
  );
}

/**
 * Bars start at zero, so their lengths compare.
 */
function barRange(min: number, max: number): [number, number] {
  const low = Math.min(0, min);
  const high = Math.max(0, max);
  const pad = (high - low || 1) * 0.05;
  return [low < 0 ? low - pad : 0, high > 0 ? high + pad : 0];
}

function options(props: IChartProps, width: number): uPlot.Options {
  const axis = themedAxis();
  const bars = props.kind === 'bars';
  const drawBars = bars ? uPlot.paths.bars!({ size: [0.6, 80] }) : undefined;
  return {
    width,
    height: CHART_HEIGHT,
    scales: {
      x: bars
        ? {
            time: false,
            range: [-0.5, Math.max(props.labels.length - 0.5, 0.5)]
          }
        : { time: false },
      y: props.logScale
        ? { distr: 3, log: 10 }
        : bars
          ? {
              range: (_: uPlot, min: number, max: number) => barRange(min, max)
            }
          : {}
    },
    axes: [
      {
        ...axis,
        label: props.xLabel,
        ...(bars
          ? {
              splits: () => props.labels.map((_, i) => i),
              values: (_: uPlot, splits: number[]) =>
                splits.map(i => props.labels[i] ?? '')
            }
          : {})
      },
      { ...axis, label: props.yLabel, size: 60 }
    ],
    legend: { live: !bars },
    cursor: { drag: { x: !bars, y: false } },
    series: [
      { label: props.xLabel },
      ...props.labels.map((label, i) => ({
        label,
        stroke: runColor(i),
        width: bars ? 1 : 1.5,
        fill: bars ? runColor(i) : undefined,
        spanGaps: !bars,
        points: { show: false },
        paths: drawBars
      }))
    ]
  };
}
