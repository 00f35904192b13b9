import React, { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

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
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = [
    props.kind,
    props.logScale,
    props.xLabel,
    props.yLabel,
    ...props.labels
  ].join('\u0000');

  useEffect(() => {
    const node = host.current;
    if (node === null) {
      return;
    }
    const chart = new uPlot(
      options(props, Math.max(node.clientWidth, 200)),
      props.data as uPlot.AlignedData,
      node
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => {
      if (node.clientWidth > 0 && node.clientWidth !== chart.width) {
        chart.setSize({ width: node.clientWidth, height: CHART_HEIGHT });
      }
    });
    resize.observe(node);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [shape]);

  useEffect(() => {
    plot.current?.setData(props.data as uPlot.AlignedData);
  }, [props.data]);

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
 * A CSS variable of the current theme.
 */
function themeColor(name: string, fallback: string): string {
  const value = getComputedStyle(document.body).getPropertyValue(name).trim();
  return value || fallback;
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
  const text = themeColor('--jp-ui-font-color1', '#333');
  const grid = themeColor('--jp-border-color2', '#e0e0e0');
  const font = `11px ${themeColor('--jp-ui-font-family', 'sans-serif')}`;
  const axis = { stroke: text, font, labelFont: font, grid: { stroke: grid } };
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
