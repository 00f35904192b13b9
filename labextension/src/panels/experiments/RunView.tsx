import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { formatBytes, formatLocalTime } from '../../common/format';
import { RefreshButton } from '../../refreshButton';

import { describeError } from '../../requestModel';
import { formatNumber } from './columns';
import { runDatasets } from './lineage';
import { RegisterModelModel } from '../../common/experiments/registerModel';
import { RegisterModelDialog } from '../../common/experiments/registerModelView';
import { RegistryClient } from '../../common/experiments/registry';
import type { RunModel } from './run';
import {
  IFileInfo,
  IKeyValue,
  IRun,
  jobIdOf,
  metricNumber,
  runName
} from '../../common/experiments/types';

/**
 * The largest artifact opened in the lab; larger ones are downloaded.
 */
export const OPEN_LIMIT_BYTES = 20 * 1024 * 1024;

/**
 * What the run page asks the application to do.
 */
export interface IRunActions {
  /** Open an artifact file in the lab (an image, text, a notebook, ...). */
  openArtifact(runId: string, path: string): Promise<void>;
  /** Whether the lab has a viewer for a file at this path. */
  canOpen(path: string): boolean;
  /** Save an artifact file into the person's downloads. */
  downloadArtifact(runId: string, path: string): Promise<void>;
  /** Open the output notebook of the job that made the run (absent: no jobs). */
  openJobOutput?(jobId: string): Promise<void>;
  /** Show the run's `tensorboard/` artifacts in TensorBoard (absent: no TensorBoard). */
  openTensorBoard?(runId: string): Promise<void>;
  /** Show the Models panel (absent: the lab has none). */
  openModels?(): void;
}

/**
 * The artifact folder whose event files TensorBoard shows for a run.
 */
export const TENSORBOARD_FOLDER = 'tensorboard';

/**
 * Props of the run page.
 */
export interface IRunViewProps {
  model: RunModel;
  actions: IRunActions;
  trans: TranslationBundle;
}

/**
 * One run: what it is, its parameters, metrics and tags, its artifacts, and
 * the job that made it.
 */
export function RunView(props: IRunViewProps): JSX.Element {
  const { model, actions, trans } = props;
  const [actionError, setActionError] = useState<string | null>(null);
  const [systemTags, setSystemTags] = useState(false);
  const [registering, setRegistering] = useState<RegisterModelModel | null>(
    null
  );
  useEffect(() => {
    void model.refresh();
  }, []);
  const act = async (work: Promise<void>) => {
    try {
      await work;
      setActionError(null);
    } catch (reason) {
      setActionError(describeError(reason));
    }
  };
  const run = model.current;
  if (run === null) {
    return (
      <div className="jp-Labworks-runPage">
        {model.error !== null ? (
          <p className="jp-Labworks-errorText" role="alert">
            {model.error}
          </p>
        ) : (
          <p className="jp-Labworks-loading">{trans.__('Loading the run…')}</p>
        )}
      </div>
    );
  }
  const info = run.info;
  const tags = (run.data.tags ?? []).filter(
    t => systemTags || !t.key.startsWith('mlflow.')
  );
  const jobId = jobIdOf(run);
  const ended = formatLocalTime(info.end_time);
  const register = (serve: boolean) => {
    registering?.dispose();
    setRegistering(
      new RegisterModelModel({
        registry: new RegistryClient(model.client.serverSettings),
        experiments: model.client,
        run,
        serve
      })
    );
  };
  return (
    <div className="jp-Labworks-runPage" data-testid="labworks-run-page">
      <div className="jp-Labworks-toolbar">
        <h2 className="jp-Labworks-runTitle">{runName(run)}</h2>
        <span
          className={`jp-Labworks-runStatus jp-mod-${info.status.toLowerCase()}`}
        >
          {info.status}
        </span>
        <RefreshButton
          label={trans.__('Refresh the run')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
        {actions.openTensorBoard &&
          model
            .folder('')
            ?.some(f => f.is_dir && f.path === TENSORBOARD_FOLDER) && (
            <Button
              className="jp-Labworks-button"
              small
              title={trans.__(
                'Show the event files logged under %1/ in TensorBoard',
                TENSORBOARD_FOLDER
              )}
              onClick={() => void act(actions.openTensorBoard!(info.run_id))}
            >
              {trans.__('Open in TensorBoard')}
            </Button>
          )}
        <Button
          className="jp-Labworks-button"
          small
          title={trans.__(
            'Register one of this run’s models in the model registry'
          )}
          onClick={() => register(false)}
        >
          {trans.__('Register model')}
        </Button>
        <Button
          className="jp-Labworks-button"
          small
          title={trans.__(
            'Register one of this run’s models and serve it at an endpoint'
          )}
          onClick={() => register(true)}
        >
          {trans.__('Serve')}
        </Button>
        {jobId && actions.openJobOutput && (
          <Button
            className="jp-Labworks-button"
            small
            title={trans.__(
              'Open the output notebook of job %1, read-only',
              jobId
            )}
            onClick={() => void act(actions.openJobOutput!(jobId))}
          >
            {trans.__('Open job output')}
          </Button>
        )}
      </div>
      {registering && (
        <RegisterModelDialog
          key={registering.serving.enabled ? 'serve' : 'register'}
          model={registering}
          trans={trans}
          onOpenModels={actions.openModels}
          onClose={() => {
            registering.dispose();
            setRegistering(null);
          }}
        />
      )}
      {[model.error, actionError]
        .filter(e => e !== null)
        .map(e => (
          <p key={e} className="jp-Labworks-errorText" role="alert">
            {e}
          </p>
        ))}
      <dl className="jp-Labworks-facts">
        <dt>{trans.__('Run id')}</dt>
        <dd>
          <code>{info.run_id}</code>
        </dd>
        <dt>{trans.__('By')}</dt>
        <dd>{info.user_id || '—'}</dd>
        <dt>{trans.__('Started')}</dt>
        <dd>{formatLocalTime(info.start_time)}</dd>
        <dt>{trans.__('Ended')}</dt>
        <dd>{ended}</dd>
        {jobId && (
          <>
            <dt>{trans.__('Job')}</dt>
            <dd>
              <code>{jobId}</code>
            </dd>
          </>
        )}
      </dl>
      <div className="jp-Labworks-runTables">
        <KeyValues
          title={trans.__('Parameters')}
          items={run.data.params ?? []}
          empty={trans.__('No parameters.')}
        />
        <section>
          <h3>{trans.__('Metrics')}</h3>
          {(run.data.metrics ?? []).length === 0 ? (
            <p className="jp-Labworks-empty">{trans.__('No metrics.')}</p>
          ) : (
            <table
              className="jp-Labworks-valueTable"
              data-testid="labworks-run-metrics"
            >
              <thead>
                <tr>
                  <th scope="col">{trans.__('Metric')}</th>
                  <th scope="col">{trans.__('Latest')}</th>
                  <th scope="col">{trans.__('Step')}</th>
                </tr>
              </thead>
              <tbody>
                {[...(run.data.metrics ?? [])]
                  .sort((a, b) => a.key.localeCompare(b.key))
                  .map(m => (
                    <tr key={m.key}>
                      <th scope="row">{m.key}</th>
                      <td>{formatNumber(metricNumber(m.value))}</td>
                      <td>{m.step ?? 0}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          )}
        </section>
        <section>
          <KeyValues
            title={trans.__('Tags')}
            items={tags}
            empty={trans.__('No tags.')}
          />
          <label className="jp-Labworks-check">
            <input
              type="checkbox"
              checked={systemTags}
              onChange={e => setSystemTags(e.target.checked)}
            />
            {trans.__('Show MLflow’s own tags (mlflow.*)')}
          </label>
        </section>
      </div>
      <Datasets run={run} trans={trans} />
      <section
        className="jp-Labworks-artifacts"
        data-testid="labworks-artifacts"
      >
        <h3>{trans.__('Artifacts')}</h3>
        <Folder path="" depth={0} {...props} act={act} />
      </section>
    </div>
  );
}

function KeyValues(props: {
  title: string;
  items: IKeyValue[];
  empty: string;
}): JSX.Element {
  return (
    <section>
      <h3>{props.title}</h3>
      {props.items.length === 0 ? (
        <p className="jp-Labworks-empty">{props.empty}</p>
      ) : (
        <table className="jp-Labworks-valueTable">
          <tbody>
            {[...props.items]
              .sort((a, b) => a.key.localeCompare(b.key))
              .map(item => (
                <tr key={item.key}>
                  <th scope="row">{item.key}</th>
                  <td>{item.value}</td>
                </tr>
              ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

/**
 * The datasets the run read: name, Labworks version, MLflow digest, use.
 */
function Datasets(props: { run: IRun; trans: TranslationBundle }): JSX.Element {
  const { trans } = props;
  const datasets = runDatasets(props.run);
  // MLflow's context: shown when the code that logged an input gave one.
  const used = datasets.some(d => d.context !== undefined);
  return (
    <section
      className="jp-Labworks-runDatasets"
      data-testid="labworks-run-datasets"
    >
      <h3>{trans.__('Datasets')}</h3>
      {datasets.length === 0 ? (
        <p className="jp-Labworks-empty">
          {trans.__('No datasets recorded for this run.')}
        </p>
      ) : (
        <table className="jp-Labworks-valueTable">
          <thead>
            <tr>
              <th scope="col">{trans.__('Dataset')}</th>
              <th scope="col">{trans.__('Version')}</th>
              <th scope="col">{trans.__('Digest')}</th>
              {used && <th scope="col">{trans.__('Used for')}</th>}
            </tr>
          </thead>
          <tbody>
            {datasets.map(d => (
              <tr key={`${d.name}\n${d.digest ?? ''}`}>
                <th scope="row">{d.name}</th>
                <td>{d.version ?? '—'}</td>
                <td>
                  <code>{d.digest ?? '—'}</code>
                </td>
                {used && <td>{d.context ?? '—'}</td>}
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

type IFolderProps = IRunViewProps & {
  path: string;
  depth: number;
  act(work: Promise<void>): Promise<void>;
};

function Folder(props: IFolderProps): JSX.Element | null {
  const { model, path, depth, trans } = props;
  const files = model.folder(path);
  if (files === undefined) {
    return null;
  }
  if (files.length === 0 && depth === 0) {
    return <p className="jp-Labworks-empty">{trans.__('No artifacts.')}</p>;
  }
  return (
    <ul
      className="jp-Labworks-artifactList"
      role={depth === 0 ? 'tree' : 'group'}
    >
      {files.map(file => (
        <Entry key={file.path} {...props} file={file} />
      ))}
    </ul>
  );
}

function Entry(props: IFolderProps & { file: IFileInfo }): JSX.Element {
  const { model, actions, file, trans, act } = props;
  const name = file.path.split('/').pop() ?? file.path;
  const runId = model.runId;
  if (file.is_dir) {
    const open = model.isOpen(file.path);
    return (
      <li role="treeitem" aria-expanded={open}>
        <button
          className="jp-Labworks-artifactFolder"
          onClick={() => void model.toggleFolder(file.path)}
        >
          {open ? '▾' : '▸'} {name}/
        </button>
        {open && <Folder {...props} path={file.path} depth={props.depth + 1} />}
      </li>
    );
  }
  const openable =
    actions.canOpen(file.path) && (file.file_size ?? 0) <= OPEN_LIMIT_BYTES;
  return (
    <li role="treeitem" className="jp-Labworks-artifactFile">
      {openable ? (
        <button
          className="jp-Labworks-runLink"
          title={trans.__('Open %1 in the lab', file.path)}
          onClick={() => void act(actions.openArtifact(runId, file.path))}
        >
          {name}
        </button>
      ) : (
        <span>{name}</span>
      )}
      <span className="jp-Labworks-hint">{formatBytes(file.file_size)}</span>
      <button
        className="jp-Labworks-linkButton"
        title={trans.__('Download %1', file.path)}
        onClick={() => void act(actions.downloadArtifact(runId, file.path))}
      >
        {trans.__('Download')}
      </button>
    </li>
  );
}
