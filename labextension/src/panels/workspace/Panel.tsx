import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { LazyPanel, loadOnce } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import type { IWorkspaceFacts } from '../../tokens';
import {
  formatCores,
  formatDuration,
  shortenDigest
} from '../../common/format';
import {
  formatGpuDevice,
  formatGpus,
  formatGroups,
  formatIdleTimeout,
  formatImageName,
  formatMemory,
  formatPlatform,
  formatVisitor
} from './labels';
import { WorkspaceModel } from './model';
import { shareWorkspace, SharingSection } from './Sharing';

/**
 * The Workspace panel: whose workspace this is, who is looking, and what it
 * was given.
 *
 * Renders the model on each `changed` and loads the facts the first time
 * it is shown.
 */
export class WorkspacePanel extends LazyPanel {
  constructor(options: WorkspacePanel.IOptions) {
    super();
    this.model = options.model;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-workspace';
    this.addClass('jp-Labworks-WorkspacePanel');
    this.title.label = this._trans.__('Workspace');
    this.title.caption = this._trans.__('Facts about this workspace');
    this.watch(this.model, this.model.sharing);
    this.model.changed.connect(this._loadSharing, this);
  }

  /**
   * The model rendered by the panel.
   */
  readonly model: WorkspaceModel;

  protected render(): JSX.Element {
    return (
      <WorkspaceView
        model={this.model}
        trans={this._trans}
        onShare={() => void shareWorkspace(this.model.sharing, this._trans)}
      />
    );
  }

  protected onVisible(): void {
    loadOnce(this.model);
    this._loadSharing();
  }

  /**
   * Who the workspace is shared with, once the facts say the owner is looking
   * (only the owner may see it; a visitor would be refused).
   */
  private _loadSharing(): void {
    const facts = this.model.facts;
    if (this.isVisible && facts !== null && facts.viewer.is_owner) {
      loadOnce(this.model.sharing);
    }
  }

  private _trans: TranslationBundle;
}

/**
 * A namespace for WorkspacePanel statics.
 */
export namespace WorkspacePanel {
  /**
   * Options to create a WorkspacePanel.
   */
  export interface IOptions {
    model: WorkspaceModel;
    translator?: ITranslator;
  }
}

/**
 * Props of the Workspace view.
 */
export interface IWorkspaceViewProps {
  model: WorkspaceModel;
  trans: TranslationBundle;
  /**
   * Open the share dialog; without it the Sharing section is not shown.
   */
  onShare?: () => void;
}

/**
 * The content of the Workspace panel, for the model's current state.
 */
export function WorkspaceView(props: IWorkspaceViewProps): JSX.Element {
  const { model, trans } = props;
  const facts = model.facts;
  const refresh = () => void model.refresh();

  return (
    <div
      className="jp-Labworks-workspace"
      data-testid="labworks-workspace-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh workspace facts')}
          busy={model.busy}
          onClick={refresh}
          text={trans.__('Refresh')}
        />
      </div>
      {model.error !== null && (
        <div className="jp-Labworks-error" role="alert">
          <p className="jp-Labworks-errorText">{model.error}</p>
          <Button className="jp-Labworks-button" small onClick={refresh}>
            {trans.__('Retry')}
          </Button>
        </div>
      )}
      {facts === null && model.error === null && (
        <p className="jp-Labworks-loading">
          {trans.__('Loading workspace facts…')}
        </p>
      )}
      {facts !== null && <FactList facts={facts} model={model} trans={trans} />}
      {props.onShare && facts !== null && !facts.viewer.is_owner && (
        <p
          className="jp-Labworks-hint"
          data-testid="labworks-sharing-owner-only"
        >
          {trans.__(
            'Only %1, who owns this workspace, can see and change whom it is shared with.',
            facts.user
          )}
        </p>
      )}
      {props.onShare && (facts === null || facts.viewer.is_owner) && (
        <SharingSection
          model={model.sharing}
          trans={trans}
          onShare={props.onShare}
        />
      )}
    </div>
  );
}

/**
 * The facts as label/value pairs, then the links.
 */
function FactList(props: {
  facts: IWorkspaceFacts;
  model: WorkspaceModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { facts, model, trans } = props;
  const { profile, image } = facts;
  const viewer = facts.viewer;
  const visitor = formatVisitor(facts.user, viewer, trans);
  const profileText =
    profile.display_name && profile.display_name !== profile.name
      ? `${profile.display_name} (${profile.name})`
      : profile.name;

  return (
    <>
      {visitor !== null && (
        <p
          className="jp-Labworks-visitor"
          data-testid="labworks-workspace-visitor"
          role="note"
        >
          {visitor}
        </p>
      )}
      <dl className="jp-Labworks-facts">
        <Fact id="owner" label={trans.__('Owner')}>
          {viewer.is_owner ? trans.__('%1 (you)', facts.user) : facts.user}
        </Fact>
        <Fact
          id="groups"
          label={visitor ? trans.__("Owner's groups") : trans.__('Groups')}
        >
          {formatGroups(facts.groups, trans)}
        </Fact>
        <Fact
          id="role"
          label={visitor ? trans.__("Owner's role") : trans.__('Role')}
        >
          {facts.admin ? trans.__('admin') : trans.__('user')}
        </Fact>
        <Fact id="profile" label={trans.__('Profile')}>
          {profileText}
        </Fact>
        <Fact id="cpu" label={trans.__('CPU')}>
          {formatCores(profile.cpu_limit, trans)}
        </Fact>
        <Fact id="memory" label={trans.__('Memory')}>
          {formatMemory(profile.mem_limit, trans)}
        </Fact>
        <Fact id="gpus" label={trans.__('GPUs')}>
          {formatGpus(profile.gpu_count, trans)}
          {model.gpus.map(gpu => (
            <div
              key={gpu.index}
              className="jp-Labworks-gpu"
              data-testid={`labworks-gpu-${gpu.index}`}
            >
              {formatGpuDevice(gpu, trans)}
            </div>
          ))}
        </Fact>
        <Fact id="image" label={trans.__('Image')}>
          {formatImageName(image, trans)}
          {!image.local && image.digest && (
            <>
              {' '}
              <code className="jp-Labworks-digest" title={image.digest}>
                {shortenDigest(image.digest)}
              </code>
            </>
          )}
        </Fact>
        <Fact id="uptime" label={trans.__('Uptime')}>
          <Uptime model={model} trans={trans} />
        </Fact>
        <Fact id="idle" label={trans.__('Idle shutdown')}>
          {formatIdleTimeout(facts.idle_cull_timeout_seconds, trans)}
        </Fact>
        <Fact id="platform" label={trans.__('Platform status')}>
          <span
            className={
              facts.platform.reachable
                ? 'jp-Labworks-platform jp-mod-connected'
                : 'jp-Labworks-platform jp-mod-unreachable'
            }
          >
            {formatPlatform(facts.platform, trans)}
          </span>
        </Fact>
      </dl>
      <ul className="jp-Labworks-links">
        <li>
          <a
            href={facts.links.hub_control_panel}
            target="_blank"
            rel="noopener noreferrer"
          >
            {trans.__('Hub control panel')}
          </a>
        </li>
        <li>
          <a
            href={facts.links.api_docs}
            target="_blank"
            rel="noopener noreferrer"
          >
            {trans.__('API docs')}
          </a>
        </li>
      </ul>
    </>
  );
}

/**
 * One label/value pair; the value carries `data-testid="labworks-fact-<id>"`.
 */
function Fact(props: {
  id: string;
  label: string;
  children?: React.ReactNode;
}): JSX.Element {
  return (
    <div className="jp-Labworks-fact">
      <dt className="jp-Labworks-factLabel">{props.label}</dt>
      <dd
        className="jp-Labworks-factValue"
        data-testid={`labworks-fact-${props.id}`}
      >
        {props.children}
      </dd>
    </div>
  );
}

/**
 * The uptime, ticking once a second while it is mounted.
 */
function Uptime(props: {
  model: WorkspaceModel;
  trans: TranslationBundle;
}): JSX.Element {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(timer);
  }, []);
  const seconds = props.model.uptimeSeconds(now);
  return (
    <>
      {seconds === null
        ? props.trans.__('unknown')
        : formatDuration(seconds, props.trans)}
    </>
  );
}
