import { TranslationBundle } from '@jupyterlab/translation';
import { Button, copyIcon, shareIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { RefreshButton } from '../../refreshButton';
import { formatBytes, formatTime } from '../../common/format';
import {
  codeSnippet,
  IDataset,
  IDatasetVersion,
  IVersionDetail
} from './client';
import type { DataModel } from './model';
import { LoadState } from '../../common/loadState';

/**
 * How long "Copied" stays beside the Copy code button, in ms.
 */
export const COPIED_MS = 4000;

/**
 * How to make a dataset, in a terminal and in a notebook.
 */
export const PUSH_COMMAND = 'labworks datasets push NAME PATH';
export const PUSH_CODE = 'from labworks import data\ndata.push("NAME", "PATH")';

/**
 * What the Data panel asks the application to do.
 */
export interface IDataActions {
  /**
   * Put text on the system clipboard.
   */
  copy(text: string): void;
  /**
   * Show who may read one of the person's datasets, and let them change it.
   */
  share(dataset: IDataset): void;
}

/**
 * Props of the Datasets view.
 */
export interface IDatasetsViewProps {
  model: DataModel;
  actions: IDataActions;
  trans: TranslationBundle;
}

/**
 * The Datasets section of the Data panel for the model's current state.
 */
export function DatasetsView(props: IDatasetsViewProps): JSX.Element {
  const { model, actions, trans } = props;
  const shown = model.shown;
  return (
    <div
      className="jp-Labworks-data"
      data-testid="labworks-datasets-view"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <input
          type="search"
          className="jp-mod-styled jp-Labworks-dataFilter"
          aria-label={trans.__('Filter datasets by name or description')}
          placeholder={trans.__('Filter datasets')}
          value={model.filter}
          onChange={e => model.setFilter(e.target.value)}
        />
        <RefreshButton
          label={trans.__('Refresh the datasets')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
      </div>
      <LoadState model={model} loading={trans.__('Loading the datasets…')} />
      {model.loaded && model.datasets.length === 0 && (
        <div className="jp-Labworks-empty" data-testid="labworks-data-empty">
          <p>{trans.__('No datasets yet. Push a file or a folder:')}</p>
          <p>{trans.__('in a terminal,')}</p>
          <pre className="jp-Labworks-datasetCode">{PUSH_COMMAND}</pre>
          <p>{trans.__('or in a notebook,')}</p>
          <pre className="jp-Labworks-datasetCode">{PUSH_CODE}</pre>
        </div>
      )}
      {model.datasets.length > 0 && shown.length === 0 && (
        <p className="jp-Labworks-empty">
          {trans.__('No dataset matches “%1”.', model.filter)}
        </p>
      )}
      <ul className="jp-Labworks-datasetList" aria-label={trans.__('Datasets')}>
        {shown.map(dataset => (
          <li key={dataset.ref} className="jp-Labworks-dataset">
            <div className="jp-Labworks-datasetRow">
              <button
                className="jp-Labworks-datasetItem"
                data-testid={`labworks-dataset-${dataset.ref}`}
                aria-expanded={model.selected?.ref === dataset.ref}
                title={trans.__('Show the versions of %1', dataset.ref)}
                onClick={() => void model.select(dataset.ref)}
              >
                <span className="jp-Labworks-datasetName">{dataset.ref}</span>
                <span className="jp-Labworks-hint">
                  {datasetFacts(dataset, trans)}
                </span>
              </button>
              {dataset.yours && (
                <button
                  className="jp-Labworks-datasetShare"
                  data-testid={`labworks-dataset-share-${dataset.ref}`}
                  title={trans.__('Who may read %1', dataset.ref)}
                  aria-label={trans.__('Share')}
                  onClick={() => actions.share(dataset)}
                >
                  <shareIcon.react tag="span" />
                </button>
              )}
            </div>
            {model.selected?.ref === dataset.ref && (
              <DatasetDetail
                dataset={model.selected}
                version={model.version}
                model={model}
                actions={actions}
                trans={trans}
              />
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * One line on a dataset: latest version, who reads it, mine or whose, when
 * it last changed.
 */
export function datasetFacts(
  dataset: IDataset,
  trans: TranslationBundle
): string {
  const latest =
    dataset.latest_version === null
      ? trans.__('no version')
      : trans.__('v%1', dataset.latest_version);
  const whose = dataset.yours
    ? trans.__('mine')
    : trans.__('shared by %1', dataset.owner);
  return [
    latest,
    visibilityLabel(dataset.visibility, trans),
    whose,
    trans.__('updated %1', formatTime(dataset.updated_at))
  ].join(' · ');
}

/**
 * Who reads it, in a word or two: private, group ml, public.
 */
export function visibilityLabel(
  visibility: string,
  trans: TranslationBundle
): string {
  if (visibility === 'public') {
    return trans.__('public');
  }
  if (visibility.startsWith('group:')) {
    return trans.__('group %1', visibility.slice(6));
  }
  return trans.__('private');
}

/**
 * The open dataset: its versions, the chosen version's files and the code
 * that reads it.
 */
function DatasetDetail(props: {
  dataset: IDataset;
  version: IVersionDetail | null;
  model: DataModel;
  actions: IDataActions;
  trans: TranslationBundle;
}): JSX.Element {
  const { dataset, version, model, trans } = props;
  return (
    <div
      className="jp-Labworks-datasetDetail"
      data-testid="labworks-dataset-detail"
    >
      {dataset.description && (
        <p className="jp-Labworks-datasetDescription">{dataset.description}</p>
      )}
      {!dataset.yours && (
        <p className="jp-Labworks-hint">
          {trans.__(
            'Read-only: only %1 can push to it or share it.',
            dataset.owner
          )}
        </p>
      )}
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Versions')}</h3>
      {dataset.versions.length === 0 && (
        <p className="jp-Labworks-empty">{trans.__('No version yet.')}</p>
      )}
      <ul className="jp-Labworks-datasetVersions">
        {dataset.versions.map(v => (
          <li key={v.number}>
            <VersionRow
              version={v}
              chosen={version?.number === v.number}
              busy={model.busy}
              choose={() => void model.chooseVersion(v.number)}
              trans={trans}
            />
          </li>
        ))}
      </ul>
      {version !== null && (
        <VersionFiles
          key={version.number}
          dataset={dataset}
          version={version}
          copy={props.actions.copy}
          trans={trans}
        />
      )}
    </div>
  );
}

/**
 * One version: number, size, files, message, who and when, digest.
 */
function VersionRow(props: {
  version: IDatasetVersion;
  chosen: boolean;
  busy: boolean;
  choose(): void;
  trans: TranslationBundle;
}): JSX.Element {
  const { version: v, trans } = props;
  return (
    <button
      className="jp-Labworks-datasetVersion"
      data-testid={`labworks-dataset-version-${v.number}`}
      aria-pressed={props.chosen}
      disabled={props.busy}
      title={trans.__('Show the files of version %1', v.number)}
      onClick={props.choose}
    >
      <span className="jp-Labworks-datasetVersionLine">
        <span className="jp-Labworks-versionNumber">
          {trans.__('v%1', v.number)}
        </span>
        <span>{formatBytes(v.size)}</span>
        <span>{trans._n('%1 file', '%1 files', v.file_count)}</span>
      </span>
      {v.message && (
        <span className="jp-Labworks-datasetVersionMessage">{v.message}</span>
      )}
      <span className="jp-Labworks-hint">
        {trans.__('by %1, %2', v.created_by, formatTime(v.created_at))}
      </span>
      <code className="jp-Labworks-datasetDigest" title={v.digest}>
        {shortDigest(v.digest)}
      </code>
    </button>
  );
}

/**
 * `sha256:` and the first 12 hex digits.
 */
export function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.includes(':')
    ? digest.split(':', 2)
    : ['', digest];
  const short = hex.slice(0, 12);
  return algorithm ? `${algorithm}:${short}` : short;
}

/**
 * A version's files with their sizes, and the code that reads it.
 */
function VersionFiles(props: {
  dataset: IDataset;
  version: IVersionDetail;
  copy(text: string): void;
  trans: TranslationBundle;
}): JSX.Element {
  const { dataset, version, trans } = props;
  const code = codeSnippet(dataset.ref, version.number);
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    if (!copied) {
      return;
    }
    const timer = setTimeout(() => setCopied(false), COPIED_MS);
    return () => clearTimeout(timer);
  }, [copied]);
  return (
    <div className="jp-Labworks-datasetFiles">
      <h3 className="jp-Labworks-sectionTitle">
        {trans.__('Files of v%1', version.number)}
      </h3>
      <ul
        className="jp-Labworks-datasetFileList"
        data-testid="labworks-dataset-files"
      >
        {version.files.map(file => (
          <li key={file.path} title={file.sha256}>
            <span className="jp-Labworks-datasetFilePath">{file.path}</span>
            <span className="jp-Labworks-datasetFileSize">
              {formatBytes(file.size)}
            </span>
          </li>
        ))}
      </ul>
      <h3 className="jp-Labworks-sectionTitle">
        {trans.__('Read it in a notebook')}
      </h3>
      <pre
        className="jp-Labworks-datasetCode"
        data-testid="labworks-dataset-code"
      >
        {code}
      </pre>
      <div className="jp-Labworks-datasetCopyRow">
        <Button
          className="jp-Labworks-button"
          small
          data-testid="labworks-dataset-copy"
          title={trans.__(
            'Copy the code that reads version %1',
            version.number
          )}
          onClick={() => {
            props.copy(code);
            setCopied(true);
          }}
        >
          <copyIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('Copy code')}
        </Button>
        <span
          className="jp-Labworks-hint"
          role="status"
          data-testid="labworks-dataset-copied"
        >
          {copied ? trans.__('Copied to the clipboard') : ''}
        </span>
      </div>
    </div>
  );
}
