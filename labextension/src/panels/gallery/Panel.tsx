import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import {
  Button,
  copyIcon,
  deleteIcon,
  launchIcon
} from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { formatLocalTime } from '../../common/format';
import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import type { GalleryModel, IGalleryEntry, IGalleryEntryDetail } from './model';
import { LoadState } from '../../common/loadState';

/**
 * What the Gallery panel asks the application to do.
 */
export interface IGalleryActions {
  /**
   * Open a version read-only.
   */
  open(entry: IGalleryEntry, version: number): void;
  /**
   * Copy a version into the workspace and open the copy.
   */
  copy(entry: IGalleryEntry, version: number): void;
  /**
   * Show nbdime's diff between two versions (in a new browser tab).
   */
  diff(entry: IGalleryEntry, base: number, remote: number): void;
  /**
   * Publish the current notebook (absent when none is open).
   */
  publish?(): void;
}

/**
 * The Gallery panel: notebooks published to my groups, their versions, and
 * buttons to open, copy and compare them.
 */
export class GalleryPanel extends LazyPanel {
  constructor(options: GalleryPanel.IOptions) {
    super();
    this.model = options.model;
    this._actions = options.actions;
    this._user = options.user ?? null;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-gallery';
    this.addClass('jp-Labworks-GalleryPanel');
    this.title.label = this._trans.__('Gallery');
    this.title.caption = this._trans.__('Notebooks published to your groups');
    this.watch(this.model);
  }

  readonly model: GalleryModel;

  protected render(): JSX.Element {
    return (
      <GalleryView
        model={this.model}
        actions={this._actions}
        user={this._user}
        trans={this._trans}
      />
    );
  }

  protected onVisible(): void {
    loadOnce(this.model);
  }

  private _actions: IGalleryActions;
  private _trans: TranslationBundle;
  private _user: string | null;
}

/**
 * A namespace for GalleryPanel statics.
 */
export namespace GalleryPanel {
  /**
   * Options to create a GalleryPanel.
   */
  export interface IOptions {
    model: GalleryModel;
    actions: IGalleryActions;
    /**
     * The user of this lab: their own entries get a Delete button.
     */
    user?: string | null;
    translator?: ITranslator;
  }
}

/**
 * Props of the Gallery view.
 */
export interface IGalleryViewProps {
  model: GalleryModel;
  actions: IGalleryActions;
  user: string | null;
  trans: TranslationBundle;
}

/**
 * The content of the Gallery panel for the model's current state.
 */
export function GalleryView(props: IGalleryViewProps): JSX.Element {
  const { model, actions, trans } = props;
  return (
    <div
      className="jp-Labworks-gallery"
      data-testid="labworks-gallery-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh the gallery')}
          busy={model.busy}
          onClick={() => void model.refresh()}
          text={trans.__('Refresh')}
        />
        {actions.publish && (
          <Button
            className="jp-Labworks-button"
            small
            disabled={model.busy}
            onClick={actions.publish}
            title={trans.__('Publish the current notebook to a group gallery')}
          >
            {trans.__('Publish notebook')}
          </Button>
        )}
      </div>
      <LoadState model={model} loading={trans.__('Loading the gallery…')} />
      {model.loaded && model.entries.length === 0 && (
        <p className="jp-Labworks-empty">
          {trans.__(
            'No notebooks in your groups’ galleries yet. Publish one with “Publish to Gallery” in a notebook’s toolbar.'
          )}
        </p>
      )}
      <ul className="jp-Labworks-galleryList" aria-label={trans.__('Gallery')}>
        {model.entries.map(entry => (
          <EntryItem key={entry.id} entry={entry} {...props} />
        ))}
      </ul>
    </div>
  );
}

function EntryItem(
  props: IGalleryViewProps & { entry: IGalleryEntry }
): JSX.Element {
  const { entry, model, trans } = props;
  const open = model.selected?.id === entry.id ? model.selected : null;
  return (
    <li
      className="jp-Labworks-galleryEntry"
      data-testid={`labworks-gallery-entry-${entry.id}`}
    >
      <button
        className="jp-Labworks-galleryEntryHeader"
        aria-expanded={open !== null}
        onClick={() => void model.select(entry.id)}
      >
        <span className="jp-Labworks-galleryName">{entry.name}</span>
        <span className="jp-Labworks-galleryMeta">
          {trans.__(
            '%1 · by %2 · v%3',
            entry.group,
            entry.owner,
            entry.latest_version
          )}
        </span>
      </button>
      {open !== null && (
        <EntryDetail key={open.latest_version} {...props} detail={open} />
      )}
    </li>
  );
}

function EntryDetail(
  props: IGalleryViewProps & { detail: IGalleryEntryDetail }
): JSX.Element {
  const { detail, model, actions, user, trans } = props;
  const numbers = detail.versions.map(v => v.number);
  const latest = numbers[numbers.length - 1] ?? 1;
  const [base, setBase] = useState(numbers.length > 1 ? latest - 1 : latest);
  const [remote, setRemote] = useState(latest);
  return (
    <div className="jp-Labworks-galleryDetail">
      <ul className="jp-Labworks-versionList" aria-label={trans.__('Versions')}>
        {[...detail.versions].reverse().map(v => (
          <li
            key={v.number}
            className="jp-Labworks-version"
            data-testid={`labworks-gallery-version-${v.number}`}
          >
            <div className="jp-Labworks-versionLine">
              <span className="jp-Labworks-versionNumber">
                {trans.__('v%1', v.number)}
              </span>
              <span className="jp-Labworks-versionMessage" title={v.message}>
                {v.message || trans.__('(no message)')}
              </span>
            </div>
            <div className="jp-Labworks-versionLine">
              <span className="jp-Labworks-versionDate">
                {formatLocalTime(v.published_at)}
              </span>
              <Button
                className="jp-Labworks-button"
                minimal
                small
                aria-label={trans.__('Open version %1 read-only', v.number)}
                title={trans.__('Open version %1 read-only', v.number)}
                onClick={() => actions.open(detail, v.number)}
              >
                <launchIcon.react
                  tag="span"
                  className="jp-Labworks-buttonIcon"
                />
                {trans.__('Open')}
              </Button>
              <Button
                className="jp-Labworks-button"
                minimal
                small
                aria-label={trans.__(
                  'Copy version %1 to the workspace',
                  v.number
                )}
                title={trans.__('Copy version %1 to the workspace', v.number)}
                disabled={model.busy}
                onClick={() => actions.copy(detail, v.number)}
              >
                <copyIcon.react tag="span" className="jp-Labworks-buttonIcon" />
                {trans.__('Copy')}
              </Button>
            </div>
          </li>
        ))}
      </ul>
      {numbers.length > 1 && (
        <div className="jp-Labworks-diffRow">
          <VersionSelect
            trans={trans}
            label={trans.__('Compare')}
            numbers={numbers}
            value={base}
            onChange={setBase}
          />
          <VersionSelect
            trans={trans}
            label={trans.__('with')}
            numbers={numbers}
            value={remote}
            onChange={setRemote}
          />
          <Button
            className="jp-Labworks-button"
            small
            disabled={model.busy || base === remote}
            title={trans.__('Open nbdime’s diff in a new browser tab')}
            onClick={() => actions.diff(detail, base, remote)}
          >
            {trans.__('Show diff')}
          </Button>
        </div>
      )}
      {user !== null && detail.owner === user && (
        <Button
          className="jp-Labworks-button"
          minimal
          small
          disabled={model.busy}
          aria-label={trans.__('Delete %1 from the gallery', detail.name)}
          onClick={() => void model.remove(detail.id)}
        >
          <deleteIcon.react tag="span" className="jp-Labworks-buttonIcon" />
          {trans.__('Delete from gallery')}
        </Button>
      )}
    </div>
  );
}

function VersionSelect(props: {
  trans: TranslationBundle;
  label: string;
  numbers: number[];
  value: number;
  onChange: (value: number) => void;
}): JSX.Element {
  return (
    <label className="jp-Labworks-versionSelect">
      {props.label}{' '}
      <select
        className="jp-mod-styled"
        value={props.value}
        onChange={event => props.onChange(Number(event.target.value))}
      >
        {props.numbers.map(n => (
          <option key={n} value={n}>
            {props.trans.__('v%1', n)}
          </option>
        ))}
      </select>
    </label>
  );
}
