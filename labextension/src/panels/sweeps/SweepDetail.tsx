import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import type { RegisterModelModel } from '../../common/experiments/registerModel';
import { RegisterModelDialog } from '../../common/experiments/registerModelView';
import { bestTrial } from './model';
import {
  costText,
  etaText,
  formatValue,
  progressText,
  StatusBadge
} from './labels';
import { IntermediatePlot, ObjectivePlot, ParallelPlot } from './plots';
import type { ISweepDetail, ITrial } from './types';
import type { ISweepsViewProps } from './viewProps';

/**
 * One sweep: its progress and counts, the best trial, what its owner may do,
 * the plots and the trials.
 */
export function SweepDetailView(
  props: ISweepsViewProps & { sweep: ISweepDetail }
): JSX.Element {
  const { model, sweep, trans } = props;
  const counts = sweep.counts;
  return (
    <section
      className="jp-Labworks-sweepDetail"
      data-testid="labworks-sweep-detail"
      aria-label={sweep.name}
    >
      <div className="jp-Labworks-sweepHeader">
        <Button
          minimal
          small
          title={trans.__('Back to the sweeps')}
          onClick={() => void model.select(null)}
        >
          {trans.__('← Sweeps')}
        </Button>
        <h3 className="jp-Labworks-sectionTitle" title={sweep.name}>
          {sweep.name}
        </h3>
        <StatusBadge status={sweep.status} trans={trans} />
      </div>
      <p className="jp-Labworks-hint">
        {trans.__(
          '%1 %2 · %3 sampler · pruner %4 · %5 at once · %6',
          sweep.direction === 'minimize'
            ? trans.__('minimize')
            : trans.__('maximize'),
          sweep.metric,
          sweep.sampler,
          sweep.pruner,
          sweep.parallel,
          sweep.owner
        )}
      </p>
      {sweep.reason && (
        <p className="jp-Labworks-sweepReason" role="status">
          {sweep.reason}
        </p>
      )}
      <dl
        className="jp-Labworks-sweepCounts"
        data-testid="labworks-sweep-counts"
      >
        <Count label={trans.__('Done')} value={progressText(sweep)} />
        <Count label={trans.__('Complete')} value={counts.complete} />
        <Count label={trans.__('Running')} value={counts.running} />
        <Count label={trans.__('Pruned')} value={counts.pruned} />
        <Count label={trans.__('Failed')} value={counts.fail} />
        <Count label={trans.__('Left')} value={etaText(sweep, trans)} />
        {props.model.costs !== null && (
          <Count
            label={trans.__('Cost')}
            value={costText(props.model.costs, sweep.id)}
          />
        )}
      </dl>
      <Actions {...props} />
      <Best {...props} />
      <Importance importance={sweep.importance ?? {}} trans={trans} />
      <div className="jp-Labworks-sweepPlots">
        <ObjectivePlot
          trials={sweep.trial_list}
          direction={sweep.direction}
          metric={sweep.metric}
          trans={trans}
        />
        <ParallelPlot
          trials={sweep.trial_list}
          space={sweep.space}
          metric={sweep.metric}
          direction={sweep.direction}
          best={sweep.best_trial}
          trans={trans}
        />
        {(sweep.pruner !== 'none' ||
          sweep.trial_list.some(t => t.intermediate.length > 0)) && (
          <IntermediatePlot trials={sweep.trial_list} trans={trans} />
        )}
      </div>
      <Trials {...props} />
    </section>
  );
}

function Count(props: { label: string; value: string | number }): JSX.Element {
  return (
    <div>
      <dt>{props.label}</dt>
      <dd>{props.value}</dd>
    </div>
  );
}

/**
 * Stop, Resume, Extend, Share, "Re-run best as job", "Register best model"
 * (the Experiments panel's dialog) and Delete, for the owner.
 */
function Actions(
  props: ISweepsViewProps & { sweep: ISweepDetail }
): JSX.Element {
  const { model, sweep, actions, trans } = props;
  const [registering, setRegistering] = useState<RegisterModelModel | null>(
    null
  );
  if (actions.user !== null && sweep.owner !== actions.user) {
    return <></>;
  }
  const busy = model.busy;
  const running = sweep.status === 'running';
  const best = bestTrial(sweep);
  const extend = async () => {
    const trials = await actions.askTrials();
    if (trials !== null) {
      await model.extend(trials);
    }
  };
  const rerun = async () => {
    const job = await model.rerunBest();
    if (job !== null) {
      actions.rerunStarted(job.id, job.name);
    }
  };
  const register = async () => {
    const dialog = await model.registerBest();
    if (dialog !== null) {
      setRegistering(dialog);
    }
  };
  const remove = async () => {
    if (await actions.confirmDelete(sweep)) {
      await model.delete();
    }
  };
  const runId = sweep.best_run_id;
  return (
    <>
      <div className="jp-Labworks-sweepActions">
        {running ? (
          <Button small disabled={busy} onClick={() => void model.stop()}>
            {trans.__('Stop')}
          </Button>
        ) : (
          sweep.status !== 'succeeded' && (
            <Button small disabled={busy} onClick={() => void model.resume()}>
              {trans.__('Resume')}
            </Button>
          )
        )}
        <Button small disabled={busy} onClick={() => void extend()}>
          {trans.__('Extend…')}
        </Button>
        <Button small disabled={busy} onClick={() => void actions.share(sweep)}>
          {trans.__('Share…')}
        </Button>
        <Button
          small
          disabled={busy || best === null}
          title={trans.__(
            'Run the best trial’s notebook and values again as a plain job'
          )}
          onClick={() => void rerun()}
        >
          {trans.__('Re-run best as job')}
        </Button>
        <Button
          small
          disabled={busy || runId === null}
          title={
            runId !== null
              ? trans.__(
                  'Register the model the best trial logged (MLflow run %1)',
                  runId
                )
              : best === null
                ? trans.__(
                    'No best trial yet: its model can be registered once a trial completes'
                  )
                : trans.__('The best trial logged no MLflow run')
          }
          onClick={() => void register()}
        >
          {trans.__('Register best model')}
        </Button>
        <Button
          small
          disabled={busy}
          title={trans.__(
            'Delete the sweep with its trials and study; its jobs and MLflow runs stay'
          )}
          onClick={() => void remove()}
        >
          {trans.__('Delete…')}
        </Button>
      </div>
      {registering !== null && (
        <RegisterModelDialog
          model={registering}
          trans={trans}
          onClose={() => {
            registering.dispose();
            setRegistering(null);
          }}
        />
      )}
    </>
  );
}

/**
 * The best trial: its value, parameters and MLflow run.
 */
function Best(props: ISweepsViewProps & { sweep: ISweepDetail }): JSX.Element {
  const { sweep, actions, trans } = props;
  if (sweep.best_value === null) {
    return (
      <p className="jp-Labworks-hint">{trans.__('No completed trial yet.')}</p>
    );
  }
  const runId = sweep.best_run_id;
  return (
    <div className="jp-Labworks-sweepBest" data-testid="labworks-sweep-best">
      <strong>
        {trans.__(
          'Best: %1 = %2 (trial %3)',
          sweep.metric,
          formatValue(sweep.best_value),
          sweep.best_trial ?? '–'
        )}
      </strong>
      <Params params={sweep.best_params ?? {}} />
      {runId &&
        (actions.openRun ? (
          <Button minimal small onClick={() => actions.openRun!(runId)}>
            {trans.__('Open its run')}
          </Button>
        ) : (
          <span className="jp-Labworks-fieldHint">
            {trans.__('MLflow run %1', runId)}
          </span>
        ))}
    </div>
  );
}

/**
 * Optuna's parameter importance as bars, largest first.
 */
function Importance(props: {
  importance: Record<string, number>;
  trans: ISweepsViewProps['trans'];
}): JSX.Element | null {
  const shares = Object.entries(props.importance).sort((a, b) => b[1] - a[1]);
  if (shares.length === 0) {
    return null;
  }
  return (
    <div
      className="jp-Labworks-sweepImportance"
      data-testid="labworks-sweep-importance"
    >
      <h4 className="jp-Labworks-sectionTitle">
        {props.trans.__('Parameter importance')}
      </h4>
      {shares.map(([name, share]) => (
        <div key={name} className="jp-Labworks-sweepImportanceRow">
          <span className="jp-Labworks-sweepNowrap">{name}</span>
          <span
            className="jp-Labworks-sweepImportanceBar"
            style={{ width: `${Math.round(share * 100)}%` }}
          />
          <span>{`${Math.round(share * 100)}%`}</span>
        </div>
      ))}
    </div>
  );
}

function Params(props: { params: Record<string, unknown> }): JSX.Element {
  return (
    <code className="jp-Labworks-sweepParams">
      {Object.entries(props.params)
        .map(
          ([k, v]) =>
            `${k}=${typeof v === 'number' ? formatValue(v) : JSON.stringify(v)}`
        )
        .join(', ')}
    </code>
  );
}

/**
 * Every trial, newest first; a row opens the trial's output notebook.
 */
function Trials(
  props: ISweepsViewProps & { sweep: ISweepDetail }
): JSX.Element {
  const { sweep, actions, trans } = props;
  const trials = [...sweep.trial_list].sort((a, b) => b.number - a.number);
  const reasons = trials.some(t => t.reason);
  const open = (t: ITrial) =>
    actions.openJob(
      t.job_id,
      `${sweep.name.replace(/\.ipynb$/, '')} trial ${t.number}.ipynb`
    );
  return (
    <table
      className="jp-Labworks-sweepTable jp-Labworks-sweepTrials"
      aria-label={trans.__('Trials')}
    >
      <thead>
        <tr>
          <th>#</th>
          <th>{trans.__('State')}</th>
          <th>{sweep.metric}</th>
          <th>{trans.__('Parameters')}</th>
          {reasons && <th>{trans.__('Reason')}</th>}
        </tr>
      </thead>
      <tbody>
        {trials.map(t => (
          <tr
            key={t.number}
            className={`jp-Labworks-sweepRow${t.number === sweep.best_trial ? ' jp-mod-best' : ''}`}
            data-testid={`labworks-sweep-trial-${t.number}`}
            tabIndex={0}
            title={trans.__('Open the output notebook of job %1', t.job_id)}
            onClick={() => open(t)}
            onKeyDown={e => {
              if (e.key === 'Enter') {
                open(t);
              }
            }}
          >
            <td className="jp-Labworks-sweepNowrap">{t.number}</td>
            <td className="jp-Labworks-sweepNowrap">
              <span className={`jp-Labworks-trialState jp-mod-${t.state}`}>
                {t.state}
              </span>
            </td>
            <td className="jp-Labworks-sweepNowrap">{formatValue(t.value)}</td>
            <td>
              <Params params={t.params} />
            </td>
            {reasons && (
              <td className="jp-Labworks-sweepReasonCell">{t.reason}</td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}
