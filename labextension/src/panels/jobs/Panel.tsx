import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import { Button, runIcon, settingsIcon } from '@jupyterlab/ui-components';
import React, { useEffect, useState } from 'react';

import { LazyPanel } from '../../lazyPanel';
import { RefreshButton } from '../../refreshButton';
import { formatTime } from '../../common/format';
import { jobDuration, statusLabel } from '../../common/jobs/labels';
import { JobDetailView } from './JobDetail';
import type { JobsModel } from './model';
import type { NotificationsModel } from './notifications';
import { NotificationsSection } from './Notifications';
import type { SchedulesModel } from './schedules';
import { SchedulesSection } from './Schedules';
import { IJob, STATUSES } from '../../common/jobs/types';
import type { IJobsActions, IJobsViewProps } from './viewProps';
import { LoadState } from '../../common/loadState';

/**
 * How long the search waits for typing to pause, in ms.
 */
export const SEARCH_DELAY_MS = 300;

/**
 * The Jobs panel: my jobs and my groups', live, with filters; the open job's
 * details, log tail and actions; the schedules; and my notification settings.
 */
export class JobsPanel extends LazyPanel {
  constructor(options: JobsPanel.IOptions) {
    super();
    this.model = options.model;
    this.schedules = options.schedules;
    this.notifications = options.notifications;
    this._actions = options.actions;
    this._user = options.user ?? null;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-jobs';
    this.addClass('jp-Labworks-JobsPanel');
    this.title.label = this._trans.__('Jobs');
    this.title.caption = this._trans.__('Notebook jobs and schedules');
    this.watch(this.model, this.schedules, this.notifications);
  }

  readonly model: JobsModel;

  readonly schedules: SchedulesModel;

  readonly notifications: NotificationsModel;

  dispose(): void {
    if (this.isDisposed) {
      return;
    }
    this.model.active = false;
    super.dispose();
  }

  protected render(): JSX.Element {
    return (
      <JobsView
        model={this.model}
        schedules={this.schedules}
        notifications={this.notifications}
        actions={this._actions}
        user={this._user}
        trans={this._trans}
      />
    );
  }

  protected onHidden(): void {
    this.model.active = false;
  }

  /**
   * Each time it is shown: follow the jobs again, and read the listings.
   */
  protected onVisible(): void {
    this.model.active = true;
    if (!this.model.busy) {
      void this.model.refresh();
    }
    if (!this.schedules.busy) {
      void this.schedules.refresh();
    }
  }

  private _actions: IJobsActions;
  private _trans: TranslationBundle;
  private _user: string | null;
}

/**
 * A namespace for JobsPanel statics.
 */
export namespace JobsPanel {
  /**
   * Options to create a JobsPanel.
   */
  export interface IOptions {
    model: JobsModel;
    schedules: SchedulesModel;
    notifications: NotificationsModel;
    actions: IJobsActions;
    /**
     * The user of this lab: only their own jobs can be cancelled and re-run.
     */
    user?: string | null;
    translator?: ITranslator;
  }
}

/**
 * The content of the Jobs panel for the models' current state.
 */
export function JobsView(props: IJobsViewProps): JSX.Element {
  const { model, actions, notifications, trans } = props;
  const [settingsOpen, setSettingsOpen] = useState(false);
  const toggleSettings = () => {
    if (!settingsOpen) {
      void notifications.refresh();
    }
    setSettingsOpen(!settingsOpen);
  };
  return (
    <div
      className="jp-Labworks-jobs"
      data-testid="labworks-jobs-panel"
      aria-busy={model.busy}
    >
      <div className="jp-Labworks-toolbar">
        <RefreshButton
          label={trans.__('Refresh the jobs')}
          busy={model.busy}
          onClick={() => {
            void model.refresh();
            void props.schedules.refresh();
          }}
          text={trans.__('Refresh')}
        />
        {actions.run && (
          <Button
            className="jp-Labworks-button"
            small
            onClick={actions.run}
            title={trans.__('Run the current notebook as a job')}
          >
            <runIcon.react tag="span" className="jp-Labworks-buttonIcon" />
            {trans.__('Run notebook')}
          </Button>
        )}
        <Button
          className="jp-Labworks-button"
          minimal
          small
          aria-label={trans.__('Notification settings')}
          aria-pressed={settingsOpen}
          aria-expanded={settingsOpen}
          title={trans.__('How you hear about your jobs ending')}
          onClick={toggleSettings}
        >
          <settingsIcon.react tag="span" className="jp-Labworks-buttonIcon" />
        </Button>
      </div>
      {settingsOpen && (
        <NotificationsSection model={notifications} trans={trans} />
      )}
      <Filters model={model} trans={trans} />
      <LoadState model={model} loading={trans.__('Loading the jobs…')} />
      {model.loaded && model.jobs.length === 0 && (
        <p className="jp-Labworks-empty">
          {model.filter.statuses.length > 0 || model.filter.search
            ? trans.__('No job matches these filters.')
            : trans.__(
                'No jobs yet. Open a notebook and press “Run as job” in its toolbar.'
              )}
        </p>
      )}
      <ul className="jp-Labworks-jobList" aria-label={trans.__('Jobs')}>
        {model.jobs.map(job => (
          <JobItem key={job.id} job={job} {...props} />
        ))}
      </ul>
      {model.loaded && model.total > model.jobs.length && (
        <p className="jp-Labworks-empty">
          {trans.__(
            'The newest %1 of %2 jobs are listed; narrow the filters to find others.',
            model.jobs.length,
            model.total
          )}
        </p>
      )}
      <SchedulesSection
        model={props.schedules}
        user={props.user}
        onEdit={actions.editSchedule}
        trans={trans}
      />
    </div>
  );
}

function Filters(props: {
  model: JobsModel;
  trans: TranslationBundle;
}): JSX.Element {
  const { model, trans } = props;
  const [search, setSearch] = useState(model.filter.search);
  useEffect(() => {
    if (search === model.filter.search) {
      return;
    }
    const timer = setTimeout(
      () => void model.setFilter({ search }),
      SEARCH_DELAY_MS
    );
    return () => clearTimeout(timer);
  }, [search]);
  const statuses = model.filter.statuses;
  return (
    <div className="jp-Labworks-jobFilters">
      <input
        type="search"
        className="jp-mod-styled jp-Labworks-jobSearch"
        aria-label={trans.__('Search jobs by name or notebook')}
        placeholder={trans.__('Search name or notebook')}
        value={search}
        onChange={e => setSearch(e.target.value)}
      />
      <div
        className="jp-Labworks-statusFilters"
        role="group"
        aria-label={trans.__('Show only these states')}
      >
        {STATUSES.map(status => {
          const on = statuses.includes(status);
          return (
            <button
              key={status}
              type="button"
              className={`jp-Labworks-statusChip jp-mod-${status}${on ? ' jp-mod-active' : ''}`}
              aria-pressed={on}
              onClick={() =>
                void model.setFilter({
                  statuses: on
                    ? statuses.filter(s => s !== status)
                    : [...statuses, status]
                })
              }
            >
              {statusLabel(status, trans)}
            </button>
          );
        })}
      </div>
      <label className="jp-Labworks-jobCheck">
        <input
          type="checkbox"
          checked={model.filter.mine}
          onChange={e => void model.setFilter({ mine: e.target.checked })}
        />
        {trans.__('Only mine')}
      </label>
    </div>
  );
}

function JobItem(props: IJobsViewProps & { job: IJob }): JSX.Element {
  const { job, model, user, trans } = props;
  const open = model.selected?.id === job.id ? model.selected : null;
  const theirs = user !== null && job.owner !== user;
  return (
    <li
      className="jp-Labworks-jobItem"
      data-testid={`labworks-job-${job.id}`}
      data-status={job.status}
    >
      <button
        className="jp-Labworks-jobHeader"
        aria-expanded={open !== null}
        onClick={() => void model.select(job.id)}
      >
        <span className={`jp-Labworks-jobStatus jp-mod-${job.status}`}>
          {statusLabel(job.status, trans)}
        </span>
        <span className="jp-Labworks-jobName">{job.name}</span>
        <span className="jp-Labworks-jobMeta">
          {[
            theirs ? trans.__('by %1', job.owner) : '',
            formatTime(job.created_at),
            jobDuration(job, trans)
          ]
            .filter(Boolean)
            .join(' · ')}
        </span>
      </button>
      {open !== null && <JobDetailView {...props} job={open} />}
    </li>
  );
}
