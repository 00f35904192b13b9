import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Button, downloadIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { formatCost } from '../../common/cost';
import { saveText } from '../../common/download';
import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import { Budgets } from './Budgets';
import { DailyChart } from './Chart';
import { formatHours, thisWorkspace } from './format';
import { CostModel, TABLE_BY } from './model';
import type { CostBy, IReport } from './types';
import { ErrorAlert } from '../../common/loadState';

/**
 * The Cost panel: what the person's work costs now, today and this month;
 * a month's spend by day, by workspace, job, sweep, run, deployment or
 * project, and by group; budgets with their thresholds. Administrators see
 * everyone's and set budgets. It polls while shown.
 */
export class CostPanel extends LazyPanel {
  constructor(options: CostPanel.IOptions) {
    super();
    this.model = options.model;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-cost';
    this.addClass('jp-Labworks-CostPanel');
    this.title.label = this._trans.__('Cost');
    this.title.caption = this._trans.__('What your work costs, and budgets');
    this.watch(this.model);
  }

  readonly model: CostModel;

  protected render(): JSX.Element {
    return <CostView model={this.model} trans={this._trans} />;
  }

  protected onVisible(): void {
    loadOnce(this.model);
    this.model.watch(true);
  }

  protected onHidden(): void {
    this.model.watch(false);
  }

  private _trans: TranslationBundle;
}

/**
 * A namespace for CostPanel statics.
 */
export namespace CostPanel {
  export interface IOptions {
    model: CostModel;
    translator?: ITranslator;
  }
}

interface ICostViewProps {
  model: CostModel;
  trans: TranslationBundle;
}

/**
 * The panel's content.
 */
export function CostView(props: ICostViewProps): JSX.Element {
  const { model, trans } = props;
  const currency = model.summary?.currency ?? model.daily?.currency ?? 'USD';
  const download = async () => {
    const file = await model.csv();
    if (file !== null) {
      saveText(file.text, file.filename, 'text/csv');
    }
  };
  return (
    <div
      className="jp-Labworks-cost"
      data-testid="labworks-cost-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh costs')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
        <input
          type="month"
          className="jp-Labworks-costMonth"
          aria-label={trans.__('Month')}
          title={trans.__('The month shown; empty for this month')}
          value={model.month ?? model.daily?.month ?? ''}
          onChange={event => void model.setMonth(event.target.value)}
        />
        <Button
          className="jp-Labworks-button"
          minimal
          small
          title={trans.__('Download the table below as CSV')}
          disabled={model.busy || !model.loaded}
          onClick={() => void download()}
        >
          <downloadIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('CSV')}
        </Button>
      </div>
      <ErrorAlert error={model.error} />
      {!model.loaded ? (
        model.error === null && (
          <p className="jp-Labworks-loading">{trans.__('Loading…')}</p>
        )
      ) : (
        <>
          <Now {...props} />
          {model.daily !== null && (
            <section aria-label={trans.__('Spend by day')}>
              <h3 className="jp-Labworks-sectionTitle">
                {trans.__(
                  'Spend by day, %1: %2',
                  model.daily.month,
                  formatCost(model.daily.total_usd, currency)
                )}
              </h3>
              <DailyChart report={model.daily} trans={trans} />
            </section>
          )}
          <section aria-label={trans.__('Spend by item')}>
            <h3 className="jp-Labworks-sectionTitle">
              <label>
                {trans.__('By')}{' '}
                <select
                  aria-label={trans.__('Show the spend by')}
                  value={model.by}
                  onChange={event =>
                    void model.setBy(event.target.value as CostBy)
                  }
                >
                  {TABLE_BY.map(by => (
                    <option key={by} value={by}>
                      {byLabel(by, trans)}
                    </option>
                  ))}
                </select>
              </label>
            </h3>
            <ReportTable
              report={model.table}
              testId="labworks-cost-table"
              trans={trans}
            />
          </section>
          <section aria-label={trans.__('Spend by group')}>
            <h3 className="jp-Labworks-sectionTitle">
              {model.admin ? trans.__('Groups') : trans.__('My groups')}
            </h3>
            <ReportTable
              report={model.groups}
              testId="labworks-cost-groups"
              trans={trans}
            />
          </section>
          {model.users !== null && (
            <section aria-label={trans.__('Spend by user')}>
              <h3 className="jp-Labworks-sectionTitle">
                {trans.__('Everyone')}
              </h3>
              <ReportTable
                report={model.users}
                testId="labworks-cost-users"
                trans={trans}
              />
            </section>
          )}
          <Budgets model={model} currency={currency} trans={trans} />
        </>
      )}
    </div>
  );
}

/**
 * Now: the burn rate of this workspace and of all running work, and the
 * spend today and this month.
 */
function Now(props: ICostViewProps): JSX.Element | null {
  const { model, trans } = props;
  const summary = model.summary;
  if (summary === null) {
    return null;
  }
  const money = (value: number) => formatCost(value, summary.currency);
  const workspace = thisWorkspace(summary);
  const facts: [string, string, string][] = [
    ['burn', trans.__('Now'), trans.__('%1/h', money(summary.burn_per_hour))],
    [
      'workspace',
      trans.__('This workspace'),
      workspace ? trans.__('%1/h', money(workspace.burn_per_hour)) : '—'
    ],
    ['today', trans.__('Today'), money(summary.today_usd)],
    ['month', trans.__('This month'), money(summary.month_usd)]
  ];
  return (
    <dl className="jp-Labworks-costNow" data-testid="labworks-cost-now">
      {facts.map(([key, label, value]) => (
        <div key={key} data-testid={`labworks-cost-now-${key}`}>
          <dt>{label}</dt>
          <dd>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/**
 * A report's rows: what (its name, and its key below), cost, and the reserved
 * core-hours, and GPU-hours where a row has any (all the hours in its tooltip).
 */
function ReportTable(props: {
  report: IReport | null;
  testId: string;
  trans: TranslationBundle;
}): JSX.Element {
  const { report, trans } = props;
  if (report === null || report.rows.length === 0) {
    return (
      <p className="jp-Labworks-hint" data-testid={props.testId}>
        {trans.__('Nothing was spent on these this month.')}
      </p>
    );
  }
  // GPU-hours only where some row used a GPU: the panel is narrow.
  const gpu = report.rows.some(row => row.gpu_hours > 0);
  return (
    <table className="jp-Labworks-costTable" data-testid={props.testId}>
      <thead>
        <tr>
          <th>{byLabel(report.by, trans)}</th>
          <th>{trans.__('Cost')}</th>
          <th title={trans.__('Reserved core-hours')}>{trans.__('CPU-h')}</th>
          {gpu && (
            <th title={trans.__('Reserved GPU-hours')}>{trans.__('GPU-h')}</th>
          )}
        </tr>
      </thead>
      <tbody>
        {report.rows.map(row => (
          <tr
            key={row.key}
            data-key={row.key}
            title={trans.__(
              '%1: %2 reserved core-hours (%3 used), %4 GiB-hours, %5 GPU-hours',
              row.key || '—',
              formatHours(row.cpu_hours),
              formatHours(row.cpu_used_hours),
              formatHours(row.memory_gb_hours),
              formatHours(row.gpu_hours)
            )}
          >
            <td>
              {row.name || row.key || '—'}
              {row.name && row.name !== row.key && (
                <div className="jp-Labworks-costKey">{row.key}</div>
              )}
            </td>
            <td className="jp-Labworks-costAmount">
              {formatCost(row.cost_usd, report.currency)}
            </td>
            <td className="jp-Labworks-costHours">
              {formatHours(row.cpu_hours)}
            </td>
            {gpu && (
              <td className="jp-Labworks-costHours">
                {formatHours(row.gpu_hours)}
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * What a report's rows are, in words.
 */
export function byLabel(by: CostBy, trans: TranslationBundle): string {
  const labels: Record<CostBy, string> = {
    user: trans.__('User'),
    group: trans.__('Group'),
    project: trans.__('Project'),
    workspace: trans.__('Workspace'),
    job: trans.__('Job'),
    sweep: trans.__('Sweep'),
    run: trans.__('Run'),
    deployment: trans.__('Deployment'),
    day: trans.__('Day')
  };
  return labels[by];
}
