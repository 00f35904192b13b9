import type { TranslationBundle } from '@jupyterlab/translation';
import { Button, deleteIcon, editIcon } from '@jupyterlab/ui-components';
import React from 'react';

import { formatFromNow, formatTime } from '../../common/format';
import {
  formatParameters,
  jobDuration,
  statusLabel
} from '../../common/jobs/labels';
import type { SchedulesModel } from './schedules';
import type { ISchedule } from '../../common/jobs/types';
import { ErrorAlert } from '../../common/loadState';

/**
 * Props of the Schedules section.
 */
export interface ISchedulesSectionProps {
  model: SchedulesModel;
  user: string | null;
  /**
   * Open the "Edit schedule" dialog; absent: no Edit button.
   */
  onEdit?: (schedule: ISchedule) => void;
  trans: TranslationBundle;
}

/**
 * The schedules of the Jobs panel: when each runs next, edit, pause, resume
 * and delete (the owner's), and the jobs it ran.
 */
export function SchedulesSection(props: ISchedulesSectionProps): JSX.Element {
  const { model, trans } = props;
  return (
    <section
      className="jp-Labworks-schedules"
      data-testid="labworks-schedules"
      aria-busy={model.busy}
    >
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Schedules')}</h3>
      <ErrorAlert error={model.error} />
      {model.loaded && model.schedules.length === 0 && (
        <p className="jp-Labworks-empty">
          {trans.__(
            'No schedules. “Run as job” puts a notebook on one (cron, in your time zone).'
          )}
        </p>
      )}
      <ul className="jp-Labworks-jobList" aria-label={trans.__('Schedules')}>
        {model.schedules.map(schedule => (
          <ScheduleItem key={schedule.id} schedule={schedule} {...props} />
        ))}
      </ul>
    </section>
  );
}

function ScheduleItem(
  props: ISchedulesSectionProps & { schedule: ISchedule }
): JSX.Element {
  const { schedule, model, user, onEdit, trans } = props;
  const mine = user === null || schedule.owner === user;
  const open = model.openId === schedule.id;
  const next = schedule.paused
    ? trans.__('paused')
    : schedule.next_run_at
      ? trans.__(
          'next %1 (%2)',
          formatTime(schedule.next_run_at),
          formatFromNow(schedule.next_run_at, trans)
        )
      : trans.__('no next run');
  return (
    <li
      className="jp-Labworks-jobItem"
      data-testid={`labworks-schedule-${schedule.id}`}
    >
      <button
        className="jp-Labworks-jobHeader"
        aria-expanded={open}
        onClick={() => void model.open(schedule.id)}
      >
        <span
          className={`jp-Labworks-jobStatus jp-mod-${schedule.paused ? 'paused' : 'scheduled'}`}
        >
          {schedule.paused ? trans.__('paused') : trans.__('scheduled')}
        </span>
        <span className="jp-Labworks-jobName">{schedule.name}</span>
        <span className="jp-Labworks-jobMeta">
          {trans.__('%1 (%2) · %3', schedule.cron, schedule.timezone, next)}
        </span>
      </button>
      {open && (
        <div className="jp-Labworks-jobDetail">
          <dl className="jp-Labworks-facts">
            <dt className="jp-Labworks-factLabel">{trans.__('Notebook')}</dt>
            <dd className="jp-Labworks-factValue">{schedule.notebook_path}</dd>
            <dt className="jp-Labworks-factLabel">{trans.__('Parameters')}</dt>
            <dd className="jp-Labworks-factValue">
              {formatParameters(schedule.parameters) ||
                trans.__('the defaults')}
            </dd>
            <dt className="jp-Labworks-factLabel">{trans.__('Profile')}</dt>
            <dd className="jp-Labworks-factValue">{schedule.profile}</dd>
            <dt className="jp-Labworks-factLabel">{trans.__('Owner')}</dt>
            <dd className="jp-Labworks-factValue">{schedule.owner}</dd>
          </dl>
          {mine && (
            <div className="jp-Labworks-jobActions">
              {onEdit && (
                <Button
                  className="jp-Labworks-button"
                  small
                  minimal
                  disabled={model.busy}
                  aria-label={trans.__('Edit the schedule %1', schedule.name)}
                  onClick={() => onEdit(schedule)}
                >
                  <editIcon.react
                    tag="span"
                    className="jp-Labworks-buttonIcon"
                  />
                  {trans.__('Edit…')}
                </Button>
              )}
              <Button
                className="jp-Labworks-button"
                small
                minimal
                disabled={model.busy}
                onClick={() =>
                  void model.setPaused(schedule.id, !schedule.paused)
                }
              >
                {schedule.paused ? trans.__('Resume') : trans.__('Pause')}
              </Button>
              <Button
                className="jp-Labworks-button"
                small
                minimal
                disabled={model.busy}
                aria-label={trans.__('Delete the schedule %1', schedule.name)}
                onClick={() => void model.remove(schedule.id)}
              >
                <deleteIcon.react
                  tag="span"
                  className="jp-Labworks-buttonIcon"
                />
                {trans.__('Delete')}
              </Button>
            </div>
          )}
          <div className="jp-Labworks-sectionTitle">
            {trans.__('Run history')}
          </div>
          {model.runs.length === 0 ? (
            <p className="jp-Labworks-empty">{trans.__('No runs yet.')}</p>
          ) : (
            <ol className="jp-Labworks-runList">
              {model.runs.map(run => (
                <li
                  key={run.id}
                  data-testid={`labworks-schedule-run-${run.id}`}
                >
                  <span
                    className={`jp-Labworks-jobStatus jp-mod-${run.status}`}
                  >
                    {statusLabel(run.status, trans)}
                  </span>{' '}
                  {trans.__(
                    '%1 · %2',
                    formatTime(run.created_at),
                    jobDuration(run, trans)
                  )}
                </li>
              ))}
            </ol>
          )}
        </div>
      )}
    </li>
  );
}
