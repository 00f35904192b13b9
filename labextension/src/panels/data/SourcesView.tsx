import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, copyIcon, folderIcon } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { formatBytes, formatTime } from '../../common/format';
import { RefreshButton } from '../../refreshButton';
import { SourceManagement } from './SourceManagement';
import { RequestAccess } from './SourceRequest';
import {
  entryName,
  IPreview,
  ISource,
  ISourceEntry,
  sourceSnippet
} from './sourcesClient';
import type { SourcesModel } from './sourcesModel';
import { LoadState } from '../../common/loadState';

/**
 * What the Sources section asks the application to do.
 */
export interface ISourcesActions {
  /**
   * Put text on the system clipboard.
   */
  copy(text: string): void;
  /**
   * Insert a code cell below the active cell of the current notebook;
   * `false` when no notebook is current.
   */
  insert(code: string): boolean;
}

/**
 * Props of the Sources view.
 */
export interface ISourcesViewProps {
  model: SourcesModel;
  actions: ISourcesActions;
  trans: TranslationBundle;
}

/**
 * The Sources section of the Data panel: every source of the catalog with
 * the person's access; an open source is browsed, previewed, asked access
 * to, or managed.
 */
export function SourcesView(props: ISourcesViewProps): JSX.Element {
  const { model, trans } = props;
  return (
    <div
      className="jp-Labworks-sources"
      data-testid="labworks-sources"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <span className="jp-Labworks-sourcesTitle">
          {trans.__('Data sources')}
        </span>
        <RefreshButton
          label={trans.__('Refresh the sources')}
          busy={model.busy}
          onClick={() => void model.refresh()}
        />
      </div>
      <LoadState
        model={model}
        loading={trans.__('Loading the sources…')}
        errorTestId="labworks-sources-error"
      />
      {model.loaded && model.sources.length === 0 && (
        <p className="jp-Labworks-empty">
          {trans.__(
            'No data source yet. An administrator or a data owner adds one with: labworks sources add'
          )}
        </p>
      )}
      <ul className="jp-Labworks-sourceList" aria-label={trans.__('Sources')}>
        {model.sources.map(source => (
          <li key={source.name} className="jp-Labworks-source">
            <button
              className="jp-Labworks-sourceItem"
              data-testid={`labworks-source-${source.name}`}
              aria-expanded={model.selected?.name === source.name}
              onClick={() => void model.select(source.name)}
            >
              <span className="jp-Labworks-sourceName">
                <span
                  className={`jp-Labworks-sourceKind jp-mod-${source.kind}`}
                >
                  {kindLabel(source.kind, trans)}
                </span>
                {source.name}
              </span>
              <span className="jp-Labworks-hint">
                {[
                  trans.__('owner %1', source.owner),
                  accessLabel(source, model, trans)
                ].join(' · ')}
              </span>
              {source.description && (
                <span className="jp-Labworks-sourceDescription">
                  {source.description}
                </span>
              )}
              {source.tags.length > 0 && (
                <span className="jp-Labworks-sourceTags">
                  {source.tags.map(tag => (
                    <span key={tag} className="jp-Labworks-sourceTag">
                      {tag}
                    </span>
                  ))}
                </span>
              )}
            </button>
            {model.selected?.name === source.name && (
              <SourceDetail {...props} source={source} />
            )}
          </li>
        ))}
      </ul>
    </div>
  );
}

/**
 * The kind of a source, in a word.
 */
export function kindLabel(
  kind: ISource['kind'],
  trans: TranslationBundle
): string {
  switch (kind) {
    case 's3':
      return trans.__('S3');
    case 'postgres':
      return trans.__('PostgreSQL');
    default:
      return trans.__('folder');
  }
}

/**
 * What the person may do with a source, in a few words.
 */
export function accessLabel(
  source: ISource,
  model: SourcesModel,
  trans: TranslationBundle
): string {
  switch (source.access) {
    case 'owner':
      return trans.__('yours');
    case 'write':
      return trans.__('read and write');
    case 'read':
      return trans.__('read');
    default:
      if (model.admin) {
        return trans.__('administrator');
      }
      return model.pendingRequest(source)
        ? trans.__('access requested')
        : trans.__('no access');
  }
}

function SourceDetail(
  props: ISourcesViewProps & { source: ISource }
): JSX.Element {
  const { model, source, trans } = props;
  const [managing, setManaging] = useState(false);
  const manage = model.canManage(source);
  return (
    <div
      className="jp-Labworks-sourceDetail"
      data-testid="labworks-source-detail"
    >
      {manage && (
        <div className="jp-Labworks-sourceTabs" role="tablist">
          <button
            role="tab"
            aria-selected={!managing}
            data-testid="labworks-source-browse"
            onClick={() => setManaging(false)}
          >
            {trans.__('Browse')}
          </button>
          <button
            role="tab"
            aria-selected={managing}
            data-testid="labworks-source-manage"
            onClick={() => {
              setManaging(true);
              void model.loadManagement();
            }}
          >
            {trans.__('Access and usage')}
          </button>
        </div>
      )}
      {manage && managing ? (
        <SourceManagement model={model} source={source} trans={trans} />
      ) : model.canRead(source) ? (
        <Browser {...props} />
      ) : (
        <RequestAccess model={model} source={source} trans={trans} />
      )}
    </div>
  );
}

/**
 * The open source's current level: a breadcrumb, its entries, and the
 * previewed one.
 */
function Browser(props: ISourcesViewProps & { source: ISource }): JSX.Element {
  const { model, source, trans } = props;
  return (
    <div className="jp-Labworks-sourceBrowser">
      <nav
        className="jp-Labworks-sourceCrumbs"
        aria-label={trans.__('Where in %1', source.name)}
      >
        <button
          data-testid="labworks-source-crumb-root"
          onClick={() => void model.goTo(-1)}
        >
          {source.name}
        </button>
        {model.trail.map((prefix, index) => (
          <React.Fragment key={prefix}>
            <span aria-hidden="true">/</span>
            <button
              data-testid={`labworks-source-crumb-${prefix}`}
              onClick={() => void model.goTo(index)}
            >
              {entryName(prefix)}
            </button>
          </React.Fragment>
        ))}
      </nav>
      <ul
        className="jp-Labworks-sourceEntries"
        aria-label={trans.__('Entries')}
      >
        {model.entries.map(entry => (
          <li key={entry.path}>
            <button
              className="jp-Labworks-sourceEntry"
              data-testid={`labworks-source-entry-${entry.path}`}
              aria-pressed={model.preview?.entry.path === entry.path}
              onClick={() =>
                void (isFolder(entry)
                  ? model.open(entry)
                  : model.showPreview(entry))
              }
            >
              <span className="jp-Labworks-sourceEntryName">
                {isFolder(entry) && (
                  <folderIcon.react
                    tag="span"
                    className="jp-Labworks-buttonIcon"
                  />
                )}
                {entryName(entry.path)}
              </span>
              <span className="jp-Labworks-hint">
                {entryFacts(entry, trans)}
              </span>
            </button>
          </li>
        ))}
      </ul>
      {model.entries.length === 0 && !model.busy && model.error === null && (
        <p className="jp-Labworks-empty">{trans.__('Nothing here.')}</p>
      )}
      {model.truncated && (
        <p className="jp-Labworks-hint">
          {trans.__('Only the first 1,000 entries are shown.')}
        </p>
      )}
      {model.preview !== null && (
        <PreviewView
          {...props}
          entry={model.preview.entry}
          preview={model.preview.preview}
        />
      )}
    </div>
  );
}

function isFolder(entry: ISourceEntry): boolean {
  return entry.kind === 'dir' || entry.kind === 'schema';
}

/**
 * Size, rows and modification time of an entry, those it has.
 */
export function entryFacts(
  entry: ISourceEntry,
  trans: TranslationBundle
): string {
  const facts: string[] = [];
  if (entry.size !== null) {
    facts.push(formatBytes(entry.size));
  }
  if (entry.rows !== null) {
    facts.push(trans._n('~%1 row', '~%1 rows', entry.rows));
  }
  if (entry.modified !== null) {
    facts.push(formatTime(entry.modified));
  }
  return facts.join(' · ');
}

/**
 * A preview: the first rows with their columns, a thumbnail or a text's
 * start; and the code that reads it, to insert or copy.
 */
function PreviewView(
  props: ISourcesViewProps & {
    source: ISource;
    entry: ISourceEntry;
    preview: IPreview;
  }
): JSX.Element {
  const { source, entry, preview, actions, trans } = props;
  const [status, setStatus] = useState('');
  const code = sourceSnippet(source.name, entry, preview.format);
  const path = `${source.name}/${entry.path}`;
  return (
    <div
      className="jp-Labworks-sourcePreview"
      data-testid="labworks-source-preview"
    >
      <h3 className="jp-Labworks-sectionTitle">{entryName(entry.path)}</h3>
      <p className="jp-Labworks-hint" data-testid="labworks-source-rowcount">
        {previewFacts(preview, trans)}
      </p>
      {preview.columns.length > 0 && (
        <div className="jp-Labworks-sourceTableWrap">
          <table className="jp-Labworks-sourceTable">
            <thead>
              <tr>
                {preview.columns.map(column => (
                  <th key={column.name} title={column.type}>
                    <span>{column.name}</span>
                    <span className="jp-Labworks-sourceColumnType">
                      {column.type}
                    </span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {preview.rows.map((row, i) => (
                <tr key={i}>
                  {row.map((value, j) => (
                    <td key={j}>{cellText(value)}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {preview.image !== null && (
        <img
          className="jp-Labworks-sourceImage"
          src={preview.image}
          alt={entry.path}
        />
      )}
      {preview.text !== null && (
        <pre className="jp-Labworks-sourceText">{preview.text}</pre>
      )}
      <pre
        className="jp-Labworks-datasetCode"
        data-testid="labworks-source-code"
      >
        {code}
      </pre>
      <div className="jp-Labworks-datasetCopyRow">
        <Button
          className="jp-Labworks-button"
          small
          data-testid="labworks-source-insert"
          title={trans.__('Insert a cell reading it below the active cell')}
          onClick={() =>
            setStatus(
              actions.insert(code)
                ? trans.__('Inserted in the notebook')
                : trans.__('Open a notebook to insert the snippet')
            )
          }
        >
          {trans.__('Insert snippet')}
        </Button>
        <Button
          className="jp-Labworks-button"
          small
          data-testid="labworks-source-copy-path"
          title={trans.__('Copy %1', path)}
          onClick={() => {
            actions.copy(path);
            setStatus(trans.__('Path copied'));
          }}
        >
          <copyIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('Copy path')}
        </Button>
        <span
          className="jp-Labworks-hint"
          role="status"
          data-testid="labworks-source-status"
        >
          {status}
        </span>
      </div>
    </div>
  );
}

/**
 * The format, size and row count of a preview.
 */
export function previewFacts(
  preview: IPreview,
  trans: TranslationBundle
): string {
  const facts: string[] = [preview.format];
  if (preview.size !== null) {
    facts.push(formatBytes(preview.size));
  }
  if (preview.row_count !== null) {
    facts.push(trans._n('%1 row', '%1 rows', preview.row_count));
  }
  if (preview.columns.length > 0) {
    facts.push(trans.__('first %1 shown', preview.rows.length));
  }
  if (preview.format === 'binary') {
    facts.push(trans.__('no preview'));
  }
  return facts.join(' · ');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) {
    return '';
  }
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}
