/**
 * The sweep plots: objective versus trial, parallel coordinates of the
 * parameters against the objective, and the intermediate values of the
 * trials that reported some.
 *
 * They are plain SVG drawn by React rather than a chart library: a sweep
 * has tens to hundreds of points, which SVG draws at once; colours come from
 * JupyterLab's CSS variables (style/sweeps.css), so every theme applies as it
 * does to the rest of the panel; and they add nothing to the bundle.
 */
import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import {
  bestSoFar,
  extent,
  IScale,
  linearScale,
  logScale,
  pointScale,
  tickLabel
} from './scales';
import type { Dimension, Direction, ITrial } from './types';

const WIDTH = 320;
const HEIGHT = 180;
const MARGIN = { left: 44, right: 12, top: 10, bottom: 26 };
const X_RANGE: [number, number] = [MARGIN.left, WIDTH - MARGIN.right];
const Y_RANGE: [number, number] = [HEIGHT - MARGIN.bottom, MARGIN.top];

/**
 * The value of each trial that has one, by trial number, with the best so
 * far as a line.
 */
export function ObjectivePlot(props: {
  trials: ReadonlyArray<ITrial>;
  direction: Direction;
  metric: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const trials = [...props.trials].sort((a, b) => a.number - b.number);
  const valued = trials.filter(t => t.value !== null);
  const x = linearScale(extent(trials.map(t => t.number)), X_RANGE);
  const y = linearScale(extent(valued.map(t => t.value!)), Y_RANGE);
  const best = bestSoFar(
    trials.map(t => (t.state === 'complete' ? t.value : null)),
    props.direction
  );
  const line = trials
    .map((t, i) => (best[i] === null ? null : `${x(t.number)},${y(best[i]!)}`))
    .filter(p => p !== null)
    .join(' ');
  return (
    <Figure
      title={trans.__('%1 by trial', props.metric)}
      testId="labworks-sweep-objective-plot"
      empty={valued.length === 0 ? trans.__('No values yet.') : null}
    >
      <Axes x={x} y={y} xLabel={trans.__('trial')} />
      <polyline className="jp-Labworks-plotBest" points={line} />
      {valued.map(t => (
        <circle
          key={t.number}
          className={`jp-Labworks-plotPoint jp-mod-${t.state}`}
          cx={x(t.number)}
          cy={y(t.value!)}
          r={3.5}
        >
          <title>
            {trans.__(
              'Trial %1: %2 (%3)',
              t.number,
              tickLabel(t.value!),
              t.state
            )}
          </title>
        </circle>
      ))}
    </Figure>
  );
}

/**
 * One vertical axis per searched parameter and one for the objective; each
 * completed trial is a line across them, the best one drawn in the accent
 * colour and the others fainter the worse they did.
 */
export function ParallelPlot(props: {
  trials: ReadonlyArray<ITrial>;
  space: Record<string, Dimension>;
  metric: string;
  direction: Direction;
  best: number | null;
  trans: TranslationBundle;
}): JSX.Element {
  const { space, trans } = props;
  const trials = props.trials.filter(
    t => t.state === 'complete' && t.value !== null
  );
  const names = Object.keys(space);
  const count = names.length + 1;
  const xs = (i: number) =>
    X_RANGE[0] +
    (count === 1 ? 0 : (i / (count - 1)) * (X_RANGE[1] - X_RANGE[0]));
  const axes = names.map(name =>
    axisFor(
      space[name],
      trials.map(t => t.params[name])
    )
  );
  const values = trials.map(t => t.value!);
  const objective = linearScale(extent(values), Y_RANGE);
  const [low, high] = extent(values);
  const goodness = (v: number) => {
    const share = (v - low) / (high - low);
    return props.direction === 'minimize' ? 1 - share : share;
  };
  return (
    <Figure
      title={trans.__('Parameters and %1', props.metric)}
      testId="labworks-sweep-parallel-plot"
      empty={trials.length === 0 ? trans.__('No completed trials yet.') : null}
    >
      {trials.map(t => {
        const points = [
          ...names.map((name, i) => `${xs(i)},${axes[i].y(t.params[name])}`),
          `${xs(names.length)},${objective(t.value!)}`
        ].join(' ');
        const isBest = t.number === props.best;
        return (
          <polyline
            key={t.number}
            className={`jp-Labworks-plotLine${isBest ? ' jp-mod-best' : ''}`}
            points={points}
            strokeOpacity={isBest ? 1 : 0.2 + 0.6 * goodness(t.value!)}
          >
            <title>{trans.__('Trial %1', t.number)}</title>
          </polyline>
        );
      })}
      {[...names, props.metric].map((name, i) => (
        <g key={name} className="jp-Labworks-plotAxis">
          <line x1={xs(i)} x2={xs(i)} y1={Y_RANGE[0]} y2={Y_RANGE[1]} />
          <text x={xs(i)} y={HEIGHT - 6} textAnchor="middle">
            {name}
          </text>
          {(i < names.length
            ? axes[i].labels
            : objective.ticks.map(
                v => [objective(v), tickLabel(v)] as [number, string]
              )
          ).map(([y, label]) => (
            <text
              key={`${y}`}
              x={i < names.length ? xs(i) + 3 : xs(i) - 3}
              y={y + 3}
              textAnchor={i < names.length ? 'start' : 'end'}
              className="jp-Labworks-plotTick"
            >
              {label}
            </text>
          ))}
        </g>
      ))}
    </Figure>
  );
}

/**
 * The values trials reported step by step, a line per trial: the pruned
 * ones in the warning colour, the others faint, so that one sees where the
 * pruner cut them.
 */
export function IntermediatePlot(props: {
  trials: ReadonlyArray<ITrial>;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const trials = props.trials.filter(t => t.intermediate.length > 0);
  const steps = ([] as number[]).concat(
    ...trials.map(t => t.intermediate.map(([step]) => step))
  );
  const values = ([] as number[]).concat(
    ...trials.map(t => t.intermediate.map(([, value]) => value))
  );
  const x = linearScale(extent(steps), X_RANGE);
  const y = linearScale(extent(values), Y_RANGE);
  const pruned = trials.filter(t => t.state === 'pruned').length;
  return (
    <Figure
      title={trans.__('Intermediate values (%1 pruned)', pruned)}
      testId="labworks-sweep-intermediate-plot"
      empty={trials.length === 0 ? trans.__('No trial reported steps.') : null}
    >
      <Axes x={x} y={y} xLabel={trans.__('step')} />
      {trials.map(t => (
        <polyline
          key={t.number}
          className={`jp-Labworks-plotLine jp-mod-${t.state}`}
          points={t.intermediate.map(([s, v]) => `${x(s)},${y(v)}`).join(' ')}
        >
          <title>{trans.__('Trial %1 (%2)', t.number, t.state)}</title>
        </polyline>
      ))}
    </Figure>
  );
}

/**
 * An axis of the parallel plot: where a value goes, and its labels.
 */
function axisFor(
  dimension: Dimension | undefined,
  values: unknown[]
): { y: (value: unknown) => number; labels: [number, string][] } {
  if (dimension?.type === 'categorical') {
    const y = pointScale(dimension.choices, Y_RANGE);
    return { y, labels: dimension.choices.map(c => [y(c), String(c)]) };
  }
  const numbers = values.filter((v): v is number => typeof v === 'number');
  const domain: [number, number] =
    dimension && 'low' in dimension
      ? [dimension.low, dimension.high]
      : extent(numbers);
  const scale: IScale =
    dimension?.type === 'log-float' && domain[0] > 0
      ? logScale(domain, Y_RANGE)
      : linearScale(domain, Y_RANGE);
  return {
    y: v => (typeof v === 'number' ? scale(v) : (Y_RANGE[0] + Y_RANGE[1]) / 2),
    labels: scale.ticks.map(t => [scale(t), tickLabel(t)])
  };
}

/**
 * The x and y axes with their ticks.
 */
function Axes(props: { x: IScale; y: IScale; xLabel: string }): JSX.Element {
  const { x, y } = props;
  return (
    <g className="jp-Labworks-plotAxis">
      <line x1={X_RANGE[0]} x2={X_RANGE[1]} y1={Y_RANGE[0]} y2={Y_RANGE[0]} />
      <line x1={X_RANGE[0]} x2={X_RANGE[0]} y1={Y_RANGE[0]} y2={Y_RANGE[1]} />
      {x.ticks.map(t => (
        <text
          key={`x${t}`}
          x={x(t)}
          y={Y_RANGE[0] + 12}
          textAnchor="middle"
          className="jp-Labworks-plotTick"
        >
          {tickLabel(t)}
        </text>
      ))}
      {y.ticks.map(t => (
        <text
          key={`y${t}`}
          x={X_RANGE[0] - 4}
          y={y(t) + 3}
          textAnchor="end"
          className="jp-Labworks-plotTick"
        >
          {tickLabel(t)}
        </text>
      ))}
      <text x={X_RANGE[1]} y={HEIGHT - 2} textAnchor="end">
        {props.xLabel}
      </text>
    </g>
  );
}

/**
 * A titled SVG figure, or its empty text.
 */
function Figure(props: {
  title: string;
  testId: string;
  empty: string | null;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <figure className="jp-Labworks-sweepPlot" data-testid={props.testId}>
      <figcaption>{props.title}</figcaption>
      {props.empty !== null ? (
        <p className="jp-Labworks-hint">{props.empty}</p>
      ) : (
        <svg
          viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
          role="img"
          aria-label={props.title}
          preserveAspectRatio="xMidYMid meet"
        >
          {props.children}
        </svg>
      )}
    </figure>
  );
}
