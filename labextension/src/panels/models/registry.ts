import type { TranslationBundle } from '@jupyterlab/translation';

import { formatCost } from '../../common/cost';
import { RequestModel } from '../../requestModel';
import type { ModelsClient } from './client';
import type {
  ILineage,
  IModelEvent,
  IVersionDetail,
  IVersionSummary,
  Task
} from './types';

/**
 * MLflow's rule for alias names, which the platform checks too: up to 255
 * letters, digits, `_` and `-`; `latest` and `v<number>` are reserved.
 */
const ALIAS = /^[A-Za-z0-9_-]{1,255}$/;
const RESERVED_ALIAS = /^(latest|v\d+)$/i;

/**
 * Why `alias` cannot be an alias name; `null` when it can.
 */
export function aliasProblem(
  alias: string,
  trans: TranslationBundle
): string | null {
  if (!ALIAS.test(alias)) {
    return trans.__(
      'An alias is up to 255 letters, digits, “_” and “-”, e.g. production.'
    );
  }
  if (RESERVED_ALIAS.test(alias)) {
    return trans.__('“%1” is reserved by MLflow: pick another name.', alias);
  }
  return null;
}

/**
 * One change to a model in words (without who, when and why).
 */
export function describeEvent(
  event: IModelEvent,
  trans: TranslationBundle
): string {
  const { alias, from_version: before, to_version: after } = event;
  switch (event.action) {
    case 'alias.set':
      return before
        ? trans.__(
            'moved @%1 from v%2 to v%3',
            alias ?? '',
            before,
            after ?? ''
          )
        : trans.__('set @%1 to v%2', alias ?? '', after ?? '');
    case 'alias.delete':
      return trans.__('removed @%1 (was v%2)', alias ?? '', before ?? '?');
    case 'task':
      return event.detail.from
        ? trans.__(
            'changed the task of v%1 from %2 to %3',
            after ?? '',
            event.detail.from,
            event.detail.to ?? ''
          )
        : trans.__('set the task of v%1 to %2', after ?? '', event.detail.to);
    case 'register':
      return trans.__('registered v%1', after ?? '');
    default:
      return event.action;
  }
}

/**
 * A lineage fact: a label and its text.
 */
export interface ILineageFact {
  label: string;
  value: string;
}

/**
 * What a version's lineage records, in the order shown (absent facts left
 * out). The run itself is shown apart, with its link.
 */
export function lineageFacts(
  lineage: ILineage,
  trans: TranslationBundle
): ILineageFact[] {
  const parameters = Object.entries(lineage.parameters ?? {}).map(
    ([name, value]) => `${name}=${value}`
  );
  const datasets = (lineage.datasets ?? []).map(d =>
    d.version ? `${d.name} v${d.version}` : d.name
  );
  const facts: [string, string | null | undefined][] = [
    [trans.__('Notebook'), lineage.notebook],
    [
      trans.__('Job'),
      lineage.job_id
        ? lineage.job_name
          ? `${lineage.job_name} (${lineage.job_id})`
          : lineage.job_id
        : null
    ],
    [trans.__('Parameters'), parameters.join(', ')],
    [trans.__('Datasets'), datasets.join(', ')],
    [trans.__('Image'), lineage.image_digest || lineage.image],
    [trans.__('Environment'), lineage.image_digest ? null : lineage.env_hash],
    [trans.__('Git commit'), lineage.git_commit],
    [
      trans.__('Cost'),
      typeof lineage.cost_usd === 'number' ? formatCost(lineage.cost_usd) : null
    ]
  ];
  return facts
    .filter((fact): fact is [string, string] => !!fact[1])
    .map(([label, value]) => ({ label, value }));
}

/**
 * One registered model opened in the panel: its versions, its history, and
 * the version shown in detail (task, aliases, lineage). The owner changes a
 * version's task and moves, sets or removes aliases; each change reloads
 * the versions and the history, so the panel shows what was recorded.
 *
 * Methods never reject: a failure (the platform's message) is in `error`.
 */
export class RegistryModel extends RequestModel {
  constructor(
    readonly client: ModelsClient,
    readonly name: string
  ) {
    super();
  }

  get versions(): ReadonlyArray<IVersionSummary> {
    return this._versions;
  }

  get history(): ReadonlyArray<IModelEvent> {
    return this._history;
  }

  /**
   * The version shown in detail; `null`: none yet.
   */
  get shown(): IVersionDetail | null {
    return this._shown;
  }

  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * Ask for the versions and the history (and the shown version) again; the
   * newest version is shown when none is.
   */
  load(): Promise<boolean> {
    return this.run(async () => {
      await this._reload();
      this._loaded = true;
    });
  }

  /**
   * Show one version in detail.
   */
  show(version: string): Promise<boolean> {
    return this.run(async () => {
      this._shown = await this.client.version(this.name, version);
    });
  }

  /**
   * Set the shown version's task type.
   */
  setTask(task: Task, reason: string): Promise<boolean> {
    const version = this._shown?.version;
    if (version === undefined) {
      return Promise.resolve(false);
    }
    return this.run(async () => {
      this._shown = await this.client.setTask(this.name, version, task, reason);
      await this._reload();
    });
  }

  /**
   * Point `alias` at `version` (set or moved), then show that version.
   */
  setAlias(alias: string, version: string, reason: string): Promise<boolean> {
    return this.run(async () => {
      this._shown = await this.client.setAlias(
        this.name,
        alias,
        version,
        reason
      );
      await this._reload();
    });
  }

  deleteAlias(alias: string, reason: string): Promise<boolean> {
    return this.run(async () => {
      await this.client.deleteAlias(this.name, alias, reason);
      await this._reload();
    });
  }

  private async _reload(): Promise<void> {
    const [versions, history] = await Promise.all([
      this.client.versions(this.name),
      this.client.history(this.name)
    ]);
    this._versions = versions;
    this._history = history.events;
    const wanted = this._shown?.version ?? versions[0]?.version;
    this._shown =
      wanted === undefined
        ? null
        : await this.client.version(this.name, wanted);
  }

  private _history: IModelEvent[] = [];
  private _loaded = false;
  private _shown: IVersionDetail | null = null;
  private _versions: IVersionSummary[] = [];
}
