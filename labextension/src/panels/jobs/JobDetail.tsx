import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useEffect, useRef, useState } from 'react';

import { ExperimentsClient } from '../../common/experiments/client';
import { RegisterModelModel } from '../../common/experiments/registerModel';
import { RegisterModelDialog } from '../../common/experiments/registerModelView';
import { RegistryClient } from '../../common/experiments/registry';
import { formatTime } from '../../common/format';
import {
  formatEnvironment,
  formatParameters,
  jobDuration,
  statusLabel
} from '../../common/jobs/labels';
import { useModelRun } from './modelRun';
import type { IJobsViewProps } from './viewProps';
import { ParameterFields } from './ParameterFields';
import { collectValues, parseValue, textOf } from './params';
import { hasEnded, IJobDetail, IParameterInfo } from '../../common/jobs/types';

/**
 * One job opened in the list: what ran where and when, why it ended, its
 * log as it grows, and the actions its owner has.
 */
export function JobDetailView(
  props: IJobsViewProps & { job: IJobDetail }
): JSX.Element {
  const { job, model, actions, user, trans } = props;
  const mine = user === null || job.owner === user;
  const [rerunning, setRerunning] = useState(false);
  const modelRun = useModelRun(job, actions);
  const [registering, setRegistering] = useState<RegisterModelModel | null>(
    null
  );
  useEffect(() => () => registering?.dispose(), [registering]);
  const facts: [string, string][] = [
    [
      trans.__('Status'),
      job.reason
        ? trans.__('%1: %2', statusLabel(job.status, trans), job.reason)
        : statusLabel(job.status, trans)
    ],
    [trans.__('Notebook'), job.notebook_path || '—'],
    [
      trans.__('Parameters'),
      formatParameters(job.parameters) || trans.__('the defaults')
    ],
    [trans.__('Profile'), job.profile],
    [trans.__('Kernel'), job.kernel_name],
    [trans.__('Environment'), formatEnvironment(job.environment, trans)],
    [trans.__('Started'), formatTime(job.started_at)],
    [trans.__('Ended'), formatTime(job.finished_at)],
    [trans.__('Duration'), jobDuration(job, trans)],
    [
      trans.__('Attempt'),
      trans.__('%1 of %2', Math.max(job.attempt, 1), job.retries + 1)
    ],
    [trans.__('Owner'), job.owner],
    [trans.__('Job id'), job.id]
  ];
  if (job.shared_with_group) {
    facts.push([trans.__('Shared with'), job.shared_with_group]);
  }
  return (
    <div className="jp-Labworks-jobDetail" data-testid="labworks-job-detail">
      <dl className="jp-Labworks-facts">
        {facts.map(([label, value]) => (
          <div className="jp-Labworks-fact" key={label}>
            <dt className="jp-Labworks-factLabel">{label}</dt>
            <dd
              className="jp-Labworks-factValue"
              data-testid={`labworks-job-fact-${label}`}
            >
              {value}
            </dd>
          </div>
        ))}
      </dl>
      <div className="jp-Labworks-jobActions">
        {job.has_output && (
          <Button
            className="jp-Labworks-button"
            small
            onClick={() => actions.openOutput(job)}
            title={trans.__('Open the output notebook read-only')}
          >
            {trans.__('Open output')}
          </Button>
        )}
        {job.has_output && mine && (
          <Button
            className="jp-Labworks-button"
            small
            minimal
            disabled={model.busy}
            onClick={() => actions.diff(job)}
            title={trans.__(
              'Compare the output with the source notebook in nbdime (new browser tab)'
            )}
          >
            {trans.__('Diff with source')}
          </Button>
        )}
        {mine && !hasEnded(job.status) && (
          <Button
            className="jp-Labworks-button"
            small
            minimal
            disabled={model.busy || job.cancel_requested}
            onClick={() => void model.cancel(job.id)}
          >
            {job.cancel_requested
              ? trans.__('Cancelling…')
              : trans.__('Cancel job')}
          </Button>
        )}
        {modelRun !== null && (
          <Button
            className="jp-Labworks-button"
            small
            aria-expanded={registering !== null}
            title={trans.__(
              'Register the model run %1 logged and serve it at an endpoint',
              modelRun.run.info.run_name || modelRun.run.info.run_id
            )}
            onClick={() =>
              setRegistering(
                registering === null
                  ? new RegisterModelModel({
                      registry: new RegistryClient(model.serverSettings),
                      experiments: new ExperimentsClient(model.serverSettings),
                      run: modelRun.run,
                      choices: modelRun.choices,
                      name: job.name.replace(/\.ipynb$/, ''),
                      serve: true
                    })
                  : null
              )
            }
          >
            {trans.__('Register and serve')}
          </Button>
        )}
        {mine && (
          <Button
            className="jp-Labworks-button"
            small
            minimal
            aria-expanded={rerunning}
            disabled={model.busy}
            onClick={() => setRerunning(!rerunning)}
          >
            {trans.__('Re-run…')}
          </Button>
        )}
      </div>
      {registering !== null && (
        <RegisterModelDialog
          model={registering}
          trans={trans}
          onOpenModels={actions.openModels}
          onClose={() => setRegistering(null)}
        />
      )}
      {rerunning && model.selectedParameters !== null && (
        <RerunForm
          key={job.id}
          job={job}
          infos={model.selectedParameters}
          exact={model.parametersExact}
          busy={model.busy}
          trans={trans}
          onRun={async values => {
            const created = await model.rerun(job.id, values);
            if (created !== null) {
              setRerunning(false);
            }
          }}
        />
      )}
      {job.events.length > 0 && (
        <details className="jp-Labworks-jobEvents">
          <summary>{trans.__('History (%1)', job.events.length)}</summary>
          <ol>
            {job.events.map((event, i) => (
              <li key={i}>
                {trans.__('%1 · %2', formatTime(event.at), event.message)}
              </li>
            ))}
          </ol>
        </details>
      )}
      <LogTail
        text={model.log?.jobId === job.id ? model.log.text : null}
        truncated={model.log?.jobId === job.id && model.log.truncated}
        waiting={job.attempt === 0}
        trans={trans}
      />
    </div>
  );
}

function RerunForm(props: {
  job: IJobDetail;
  infos: IParameterInfo[];
  /** The infos are the notebook's declarations (else: send every value). */
  exact: boolean;
  busy: boolean;
  trans: TranslationBundle;
  onRun: (values: Record<string, unknown>) => Promise<void>;
}): JSX.Element {
  const { job, infos, exact, trans } = props;
  const [texts, setTexts] = useState<Record<string, string>>(() => {
    const start: Record<string, string> = {};
    for (const info of infos) {
      const value =
        info.name in job.parameters ? job.parameters[info.name] : info.default;
      start[info.name] = textOf(info.type, value);
    }
    return start;
  });
  const [errors, setErrors] = useState<Record<string, string>>({});
  const onChange = (name: string, text: string) => {
    setTexts({ ...texts, [name]: text });
    const info = infos.find(i => i.name === name);
    const parsed = info ? parseValue(info.type, text, trans) : null;
    const next = { ...errors };
    delete next[name];
    if (parsed && !parsed.ok) {
      next[name] = parsed.error;
    }
    setErrors(next);
  };
  return (
    <form
      className="jp-Labworks-rerun"
      data-testid="labworks-rerun"
      onSubmit={e => {
        e.preventDefault();
        const collected = collectValues(infos, texts, trans, !exact);
        setErrors(collected.errors);
        if (Object.keys(collected.errors).length === 0) {
          void props.onRun(collected.values);
        }
      }}
    >
      {infos.length === 0 ? (
        <p className="jp-Labworks-empty">
          {trans.__('This notebook takes no parameters.')}
        </p>
      ) : (
        <ParameterFields
          infos={infos}
          texts={texts}
          errors={errors}
          onChange={onChange}
          trans={trans}
          disabled={props.busy}
        />
      )}
      <Button
        className="jp-Labworks-button"
        small
        type="submit"
        disabled={props.busy || Object.keys(errors).length > 0}
      >
        {trans.__('Run again')}
      </Button>
    </form>
  );
}

function LogTail(props: {
  text: string | null;
  truncated: boolean;
  waiting: boolean;
  trans: TranslationBundle;
}): JSX.Element {
  const { trans } = props;
  const ref = useRef<HTMLPreElement>(null);
  const [follow, setFollow] = useState(true);
  useEffect(() => {
    const node = ref.current;
    if (node && follow) {
      node.scrollTop = node.scrollHeight;
    }
  }, [props.text, follow]);
  return (
    <div className="jp-Labworks-jobLog">
      <div className="jp-Labworks-sectionTitle">{trans.__('Log')}</div>
      {props.truncated && (
        <p className="jp-Labworks-empty">
          {trans.__('Only the end of the log is shown.')}
        </p>
      )}
      <pre
        ref={ref}
        className="jp-Labworks-logText"
        data-testid="labworks-job-log"
        tabIndex={0}
        aria-label={trans.__('Job log')}
        onScroll={e => {
          const node = e.currentTarget;
          setFollow(
            node.scrollHeight - node.scrollTop - node.clientHeight < 16
          );
        }}
      >
        {props.text ||
          (props.waiting
            ? trans.__('The job has not started yet.')
            : trans.__('No output yet.'))}
      </pre>
    </div>
  );
}
