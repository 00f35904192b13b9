import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, downloadIcon } from '@jupyterlab/ui-components';
import React, { useMemo, useState } from 'react';

import { formatCost } from '../../common/cost';
import { describeError } from '../../requestModel';
import { Chart } from './Chart';
import {
  alignCurves,
  barData,
  paramDiff,
  runColor,
  runLabels
} from './chartData';
import { formatNumber } from './columns';
import type { CompareModel } from './compare';
import { saveText } from '../../common/download';
import { metricNumber } from '../../common/experiments/types';
import { ErrorAlert } from '../../common/loadState';

/**
 * Props of the comparison view.
 */
export interface ICompareViewProps {
  model: CompareModel;
  trans: TranslationBundle;
  /** Open a run's page. */
  openRun(runId: string): void;
}

/**
 * The comparison of the selected runs: a metric's curves over steps
 * (overlaid, smoothed, on a linear or log scale), a metric's latest values
 * as bars, the parameters side by side with the differing ones marked, and
 * the export of it all as CSV.
 */
export function CompareView(props: ICompareViewProps): JSX.Element {
  const { model, trans } = props;
  const labels = useMemo(() => runLabels(model.runs), [model.runs]);
  const [exportError, setExportError] = useState<string | null>(null);
  const exportCsv = async () => {
    try {
      saveText(await model.exportCsv(), 'runs-comparison.csv', 'text/csv');
      setExportError(null);
    } catch (reason) {
      setExportError(describeError(reason));
    }
  };
  return (
    <div className="jp-Labworks-compare" data-testid="labworks-compare">
      <div className="jp-Labworks-toolbar">
        <ul
          className="jp-Labworks-runChips"
          aria-label={trans.__('Compared runs')}
        >
          {model.runs.map((run, i) => (
            <li key={run.info.run_id}>
              <button
                className="jp-Labworks-runChip"
                style={{ borderColor: runColor(i) }}
                title={trans.__('Open run %1', run.info.run_id)}
                onClick={() => props.openRun(run.info.run_id)}
              >
                <span
                  className="jp-Labworks-swatch"
                  style={{ background: runColor(i) }}
                />
                {labels[i]}
              </button>
            </li>
          ))}
        </ul>
        <Button
          className="jp-Labworks-button"
          small
          onClick={() => void exportCsv()}
          title={trans.__('Save the compared runs as a CSV file')}
        >
          <downloadIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('Export CSV')}
        </Button>
      </div>
      {exportError !== null && (
        <p className="jp-Labworks-errorText" role="alert">
          {exportError}
        </p>
      )}
      {model.metrics.length === 0 ? (
        <p className="jp-Labworks-empty">
          {trans.__('These runs logged no metrics.')}
        </p>
      ) : (
        <>
          <Curves {...props} labels={labels} />
          <Bars {...props} labels={labels} />
        </>
      )}
      <Costs {...props} labels={labels} />
      <ParamDiff {...props} labels={labels} />
    </div>
  );
}

type ISectionProps = ICompareViewProps & { labels: string[] };

function MetricPicker(props: {
  id: string;
  label: string;
  metrics: string[];
  value: string | null;
  onChange(key: string): void;
}): JSX.Element {
  return (
    <label className="jp-Labworks-field" htmlFor={props.id}>
      {props.label}
      <select
        id={props.id}
        className="jp-mod-styled"
        value={props.value ?? ''}
        onChange={e => props.onChange(e.target.value)}
      >
        {props.metrics.map(key => (
          <option key={key} value={key}>
            {key}
          </option>
        ))}
      </select>
    </label>
  );
}

function Curves(props: ISectionProps): JSX.Element {
  const { model, trans, labels } = props;
  const curves = model.curves;
  const data = useMemo(
    () =>
      curves === null
        ? null
        : alignCurves(curves, model.smoothing, model.logScale),
    [curves, model.smoothing, model.logScale]
  );
  return (
    <section className="jp-Labworks-compareSection">
      <h3>{trans.__('Metric over steps')}</h3>
      <div className="jp-Labworks-chartControls">
        <MetricPicker
          id="jp-Labworks-compare-curveMetric"
          label={trans.__('Metric')}
          metrics={model.metrics}
          value={model.curveMetric}
          onChange={key => void model.setCurveMetric(key)}
        />
        <label
          className="jp-Labworks-field"
          htmlFor="jp-Labworks-compare-smoothing"
        >
          {trans.__('Smoothing %1', model.smoothing.toFixed(2))}
          <input
            id="jp-Labworks-compare-smoothing"
            type="range"
            min={0}
            max={0.99}
            step={0.01}
            value={model.smoothing}
            onChange={e => model.setSmoothing(Number(e.target.value))}
          />
        </label>
        <label className="jp-Labworks-check">
          <input
            type="checkbox"
            checked={model.logScale}
            onChange={e => model.setLogScale(e.target.checked)}
          />
          {trans.__('Log scale')}
        </label>
      </div>
      <ErrorAlert error={model.error} />
      {data === null ? (
        model.error === null && (
          <p className="jp-Labworks-loading">
            {trans.__('Loading the curves…')}
          </p>
        )
      ) : (
        <Chart
          kind="lines"
          data={data}
          labels={labels}
          xLabel={trans.__('step')}
          yLabel={model.curveMetric ?? ''}
          logScale={model.logScale}
          title={trans.__(
            '%1 over steps, one line per run',
            model.curveMetric ?? ''
          )}
          testId="labworks-compare-curves"
        />
      )}
    </section>
  );
}

function Bars(props: ISectionProps): JSX.Element {
  const { model, trans, labels } = props;
  const key = model.barMetric;
  const data = useMemo(
    () => (key === null ? null : barData(model.runs, key)),
    [model.runs, key]
  );
  return (
    <section className="jp-Labworks-compareSection">
      <h3>{trans.__('Latest value')}</h3>
      <div className="jp-Labworks-chartControls">
        <MetricPicker
          id="jp-Labworks-compare-barMetric"
          label={trans.__('Metric')}
          metrics={model.metrics}
          value={key}
          onChange={k => model.setBarMetric(k)}
        />
      </div>
      {data !== null && (
        <Chart
          kind="bars"
          data={data}
          labels={labels}
          xLabel={trans.__('run')}
          yLabel={key ?? ''}
          title={trans.__('Latest %1 of each run', key ?? '')}
          testId="labworks-compare-bars"
        />
      )}
      <table className="jp-Labworks-valueTable">
        <tbody>
          {model.runs.map((run, i) => {
            const metric = run.data.metrics?.find(m => m.key === key);
            return (
              <tr key={run.info.run_id}>
                <th scope="row">{labels[i]}</th>
                <td>
                  {metric === undefined
                    ? '—'
                    : formatNumber(metricNumber(metric.value))}
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </section>
  );
}

/**
 * What each run cost, when any of them has a cost.
 */
function Costs(props: ISectionProps): JSX.Element | null {
  const { model, trans, labels } = props;
  if (model.costs.every(cost => cost === undefined)) {
    return null;
  }
  return (
    <section className="jp-Labworks-compareSection">
      <h3>{trans.__('Cost')}</h3>
      <table
        className="jp-Labworks-valueTable"
        data-testid="labworks-compare-cost"
      >
        <tbody>
          {model.runs.map((run, i) => (
            <tr key={run.info.run_id}>
              <th scope="row">{labels[i]}</th>
              <td>
                {model.costs[i] === undefined
                  ? '—'
                  : formatCost(model.costs[i]!)}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}

function ParamDiff(props: ISectionProps): JSX.Element {
  const { model, trans, labels } = props;
  const rows = useMemo(() => paramDiff(model.runs), [model.runs]);
  const [onlyDiffering, setOnlyDiffering] = useState(false);
  const shown = onlyDiffering ? rows.filter(r => r.differs) : rows;
  const differing = rows.filter(r => r.differs).length;
  return (
    <section className="jp-Labworks-compareSection">
      <h3>{trans.__('Parameters')}</h3>
      <div className="jp-Labworks-chartControls">
        <span className="jp-Labworks-hint">
          {trans._n(
            '%1 of %2 parameters differs',
            '%1 of %2 parameters differ',
            differing,
            rows.length
          )}
        </span>
        <label className="jp-Labworks-check">
          <input
            type="checkbox"
            checked={onlyDiffering}
            onChange={e => setOnlyDiffering(e.target.checked)}
          />
          {trans.__('Only differing')}
        </label>
      </div>
      <div className="jp-Labworks-tableScroll">
        <table
          className="jp-Labworks-diffTable"
          data-testid="labworks-param-diff"
        >
          <thead>
            <tr>
              <th scope="col">{trans.__('Parameter')}</th>
              {labels.map((label, i) => (
                <th scope="col" key={model.runs[i].info.run_id}>
                  <span
                    className="jp-Labworks-swatch"
                    style={{ background: runColor(i) }}
                  />
                  {label}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {shown.map(row => (
              <tr
                key={row.key}
                className={row.differs ? 'jp-mod-differs' : undefined}
                data-differs={row.differs}
              >
                <th scope="row">{row.key}</th>
                {row.values.map((value, i) => (
                  <td key={i}>{value ?? '—'}</td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );
}
