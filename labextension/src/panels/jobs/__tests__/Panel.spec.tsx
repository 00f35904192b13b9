import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import React from 'react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { JobsModel } from '../model';
import { NotificationsModel } from '../notifications';
import { JobsPanel, JobsView } from '../Panel';
import type { IJobsActions } from '../viewProps';
import { SchedulesModel } from '../schedules';
import type { IJobModelRun } from '../../../common/experiments/jobRuns';
import type { IJob } from '../../../common/jobs/types';
import {
  sampleDetail,
  sampleInspect,
  sampleJob,
  sampleLog,
  sampleNotify,
  sampleSchedule,
  where
} from './sample';

const trans = nullTranslator.load('labworks');

function listing(...jobs: IJob[]): IFakeAnswer {
  return { body: { jobs, total: jobs.length, limit: 100, offset: 0 } };
}

function actions(): jest.Mocked<Required<IJobsActions>> {
  return {
    openOutput: jest.fn(),
    diff: jest.fn(),
    run: jest.fn(),
    editSchedule: jest.fn(),
    findModelRun: jest.fn((job: IJob) =>
      Promise.resolve<IJobModelRun | null>(null)
    ),
    openModels: jest.fn()
  };
}

function models(...answers: IFakeAnswer[]) {
  const server = fakeServer(...answers);
  const model = new JobsModel({ serverSettings: server.settings });
  const schedules = new SchedulesModel(model.client);
  const notifications = new NotificationsModel(model.client);
  return { model, schedules, notifications, requests: server.requests };
}

function view(
  m: {
    model: JobsModel;
    schedules: SchedulesModel;
    notifications: NotificationsModel;
  },
  act_: IJobsActions,
  user: string | null = 'alice'
) {
  return (
    <JobsView
      model={m.model}
      schedules={m.schedules}
      notifications={m.notifications}
      actions={act_}
      user={user}
      trans={trans}
    />
  );
}

describe('JobsView', () => {
  it('lists jobs with their status, owner, time and duration', async () => {
    const m = models(
      listing(
        sampleJob(),
        sampleJob({
          id: 'b0b000000000',
          owner: 'bob',
          name: 'eval.ipynb',
          status: 'running',
          finished_at: null,
          duration_seconds: null
        })
      )
    );
    await m.model.refresh();
    render(view(m, actions()));

    const mine = screen.getByTestId('labworks-job-4f0c2a9e81d3');
    expect(mine.getAttribute('data-status')).toBe('succeeded');
    expect(mine.textContent).toContain('succeeded');
    expect(mine.textContent).toContain('train.ipynb');
    expect(mine.textContent).toContain('9 s');
    expect(mine.textContent).not.toContain('by alice');
    const theirs = screen.getByTestId('labworks-job-b0b000000000');
    expect(theirs.textContent).toContain('running');
    expect(theirs.textContent).toContain('by bob');
    expect(theirs.textContent).toContain('so far');
    m.model.dispose();
  });

  it('filters by status and search', async () => {
    jest.useFakeTimers();
    try {
      const m = models(listing(sampleJob()), listing(), listing());
      await m.model.refresh();
      const { rerender } = render(view(m, actions()));

      fireEvent.click(screen.getByRole('button', { name: 'failed' }));
      await act(() => jest.advanceTimersByTimeAsync(0));
      expect(where(m.requests[1]).query).toBe('?status=failed&limit=100');
      rerender(view(m, actions()));
      expect(
        screen
          .getByRole('button', { name: 'failed' })
          .getAttribute('aria-pressed')
      ).toBe('true');
      expect(screen.getByText('No job matches these filters.')).toBeTruthy();

      fireEvent.change(
        screen.getByRole('searchbox', {
          name: 'Search jobs by name or notebook'
        }),
        { target: { value: 'train' } }
      );
      await act(() => jest.advanceTimersByTimeAsync(400));
      expect(where(m.requests[2]).query).toBe(
        '?status=failed&q=train&limit=100'
      );
      m.model.dispose();
    } finally {
      jest.useRealTimers();
    }
  });

  it('opens a job: facts, log, output, diff and re-run with edited values', async () => {
    const m = models(
      listing(sampleJob()),
      { body: sampleDetail() },
      { body: sampleLog({ text: 'epoch 1\ndone\n', complete: true }) },
      { body: sampleInspect() },
      { status: 201, body: sampleDetail({ id: 'aaaa11112222' }) }
    );
    await m.model.refresh();
    const act_ = actions();
    const { rerender } = render(view(m, act_));
    const item = screen.getByTestId('labworks-job-4f0c2a9e81d3');
    fireEvent.click(within(item).getByRole('button', { expanded: false }));
    await waitFor(() => expect(m.model.log).not.toBeNull());
    rerender(view(m, act_));

    const detail = screen.getByTestId('labworks-job-detail');
    expect(detail.textContent).toContain('epochs=20');
    expect(detail.textContent).toContain('cpu-small');
    expect(detail.textContent).toContain(
      'local environment · sha256:5d2a01234567 · Python 3.11.2'
    );
    expect(detail.textContent).toContain('1 of 2'); // attempt 1, one retry
    expect(screen.getByTestId('labworks-job-log').textContent).toBe(
      'epoch 1\ndone\n'
    );
    // It ended: no cancel.
    expect(within(detail).queryByRole('button', { name: 'Cancel job' })).toBe(
      null
    );
    fireEvent.click(
      within(detail).getByRole('button', { name: 'Open output' })
    );
    expect(act_.openOutput).toHaveBeenCalledWith(
      expect.objectContaining({ id: '4f0c2a9e81d3' })
    );
    fireEvent.click(
      within(detail).getByRole('button', { name: 'Diff with source' })
    );
    expect(act_.diff).toHaveBeenCalled();

    fireEvent.click(within(detail).getByRole('button', { name: 'Re-run…' }));
    const form = screen.getByTestId('labworks-rerun');
    const epochs = within(form).getByLabelText(/epochs/) as HTMLInputElement;
    expect(epochs.value).toBe('20'); // the job's own value, not the default
    fireEvent.change(epochs, { target: { value: 'x' } });
    expect(within(form).getByRole('alert').textContent).toBe(
      'epochs must be an integer (int), not "x"'
    );
    expect(
      (
        within(form).getByRole('button', {
          name: 'Run again'
        }) as HTMLButtonElement
      ).disabled
    ).toBe(true);
    fireEvent.change(epochs, { target: { value: '40' } });
    fireEvent.click(within(form).getByRole('button', { name: 'Run again' }));
    await waitFor(() => expect(m.requests.length).toBeGreaterThanOrEqual(5));
    expect(where(m.requests[4]).path).toBe('jobs/4f0c2a9e81d3/rerun');
    expect(await m.requests[4].json()).toEqual({ parameters: { epochs: 40 } });
    m.model.dispose();
  });

  it('lets the owner cancel a running job, and not someone else’s', async () => {
    const running = sampleDetail({ status: 'running', has_output: false });
    const m = models(
      listing(running),
      { body: running },
      { body: sampleLog() },
      { body: { ...running, cancel_requested: true } }
    );
    await m.model.refresh();
    await m.model.select(running.id);
    const { rerender } = render(view(m, actions()));
    const detail = screen.getByTestId('labworks-job-detail');
    expect(within(detail).queryByRole('button', { name: 'Open output' })).toBe(
      null
    );

    fireEvent.click(within(detail).getByRole('button', { name: 'Cancel job' }));
    await waitFor(() => expect(m.model.selected?.cancel_requested).toBe(true));
    rerender(view(m, actions()));
    expect(
      (
        within(screen.getByTestId('labworks-job-detail')).getByRole('button', {
          name: 'Cancelling…'
        }) as HTMLButtonElement
      ).disabled
    ).toBe(true);

    rerender(view(m, actions(), 'bob'));
    expect(screen.queryByRole('button', { name: /Cancel/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Re-run…' })).toBeNull();
    m.model.dispose();
  });

  it('shows the platform’s error and the empty state', async () => {
    const m = models(listing(), {
      status: 502,
      body: { error: 'platform_unreachable', message: 'platform down' }
    });
    await m.model.refresh();
    const { rerender } = render(view(m, actions()));
    expect(screen.getByText(/No jobs yet/)).toBeTruthy();
    await m.model.refresh();
    rerender(view(m, actions()));
    expect(screen.getAllByRole('alert')[0].textContent).toBe('platform down');
    m.model.dispose();
  });
});

describe('SchedulesSection', () => {
  it('lists schedules with next run; opens runs; pauses and deletes', async () => {
    const schedule = sampleSchedule();
    const m = models(
      { body: { schedules: [schedule] } },
      { body: { schedules: [schedule] } },
      listing(sampleJob({ trigger: 'schedule', schedule_id: schedule.id })),
      { body: { ...schedule, paused: true } },
      { status: 204 },
      { body: { schedules: [] } }
    );
    await m.schedules.refresh();
    const { rerender } = render(view(m, actions()));
    const item = screen.getByTestId('labworks-schedule-9b3e5f00a1c2');
    expect(item.textContent).toContain('0 6 * * 1-5 (Europe/Berlin)');
    expect(item.textContent).toContain('next ');

    fireEvent.click(within(item).getByRole('button', { expanded: false }));
    await waitFor(() => expect(m.schedules.runs).toHaveLength(1));
    rerender(view(m, actions()));
    expect(where(m.requests[2]).path).toBe('schedules/9b3e5f00a1c2/runs');
    expect(
      screen.getByTestId('labworks-schedule-run-4f0c2a9e81d3').textContent
    ).toContain('succeeded');

    fireEvent.click(screen.getByRole('button', { name: 'Pause' }));
    await waitFor(() => expect(m.schedules.schedules[0].paused).toBe(true));
    expect(where(m.requests[3]).path).toBe('schedules/9b3e5f00a1c2/pause');
    rerender(view(m, actions()));
    expect(
      screen.getByTestId('labworks-schedule-9b3e5f00a1c2').textContent
    ).toContain('paused');
    expect(screen.getByRole('button', { name: 'Resume' })).toBeTruthy();

    fireEvent.click(
      screen.getByRole('button', { name: 'Delete the schedule report.ipynb' })
    );
    await waitFor(() => expect(m.schedules.schedules).toEqual([]));
    expect(m.requests[4].method).toBe('DELETE');
    m.schedules.dispose();
  });
});

describe('SchedulesSection editing', () => {
  it('offers Edit on my own schedules only, and hands the schedule over', async () => {
    const schedule = sampleSchedule();
    const m = models(
      { body: { schedules: [schedule] } },
      { body: { schedules: [schedule] } },
      listing()
    );
    await m.schedules.refresh();
    const act_ = actions();
    const { rerender } = render(view(m, act_));
    const item = screen.getByTestId('labworks-schedule-9b3e5f00a1c2');
    fireEvent.click(within(item).getByRole('button', { expanded: false }));
    await waitFor(() => expect(m.schedules.openId).toBe(schedule.id));
    await waitFor(() => expect(m.schedules.busy).toBe(false));
    rerender(view(m, act_));

    fireEvent.click(
      screen.getByRole('button', { name: 'Edit the schedule report.ipynb' })
    );
    expect(act_.editSchedule).toHaveBeenCalledWith(schedule);

    rerender(view(m, act_, 'bob'));
    expect(
      screen.queryByRole('button', { name: /Edit the schedule/ })
    ).toBeNull();
    m.schedules.dispose();
  });

  it('shows a schedule changed elsewhere with its new next run', async () => {
    const schedule = sampleSchedule();
    const m = models({ body: { schedules: [schedule] } });
    await m.schedules.refresh();
    const { rerender } = render(view(m, actions()));

    m.schedules.put({
      ...schedule,
      cron: '15 7 * * *',
      timezone: 'Asia/Tokyo',
      next_run_at: '2026-11-24T22:15:00Z'
    });
    rerender(view(m, actions()));

    expect(
      screen.getByTestId('labworks-schedule-9b3e5f00a1c2').textContent
    ).toContain('15 7 * * * (Asia/Tokyo)');
    m.schedules.dispose();
  });
});

describe('NotificationsSection', () => {
  function field(section: HTMLElement, label: string): HTMLInputElement {
    return within(section).getByLabelText(label) as HTMLInputElement;
  }

  it('reads the settings when opened, saves them, and keeps a refusal inline', async () => {
    const m = models(
      {
        body: sampleNotify({
          webhook_url: 'https://hooks.example.org/T0',
          events: 'finished'
        })
      },
      {
        status: 422,
        body: {
          error: 'invalid',
          message: "email: 'ana@' is not an e-mail address"
        }
      },
      {
        body: sampleNotify({
          webhook_url: 'https://hooks.example.org/T1',
          email: 'ana@example.org',
          events: 'none'
        })
      }
    );
    const { rerender } = render(view(m, actions()));
    expect(screen.queryByTestId('labworks-notifications')).toBeNull();

    fireEvent.click(
      screen.getByRole('button', { name: 'Notification settings' })
    );
    await waitFor(() => expect(m.notifications.loaded).toBe(true));
    rerender(view(m, actions()));
    const section = screen.getByTestId('labworks-notifications');
    expect(where(m.requests[0]).path).toBe('jobs/notifications');
    expect(field(section, 'Webhook URL').value).toBe(
      'https://hooks.example.org/T0'
    );
    expect(field(section, 'Tell me about').value).toBe('finished');
    expect(field(section, 'E-mail address').disabled).toBe(false);

    fireEvent.change(field(section, 'E-mail address'), {
      target: { value: 'ana@' }
    });
    fireEvent.click(within(section).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(m.notifications.error).not.toBeNull());
    rerender(view(m, actions()));
    expect(screen.getByTestId('labworks-notifications-error').textContent).toBe(
      "email: 'ana@' is not an e-mail address"
    );
    expect(field(section, 'E-mail address').value).toBe('ana@'); // kept
    expect(m.requests[1].method).toBe('PUT');
    expect(await m.requests[1].json()).toEqual({
      webhook_url: 'https://hooks.example.org/T0',
      email: 'ana@',
      events: 'finished'
    });

    fireEvent.change(field(section, 'E-mail address'), {
      target: { value: ' ana@example.org ' }
    });
    fireEvent.change(field(section, 'Webhook URL'), {
      target: { value: 'https://hooks.example.org/T1' }
    });
    fireEvent.change(field(section, 'Tell me about'), {
      target: { value: 'none' }
    });
    fireEvent.click(within(section).getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(m.notifications.saved).toBe(true));
    rerender(view(m, actions()));
    expect(await m.requests[2].json()).toEqual({
      webhook_url: 'https://hooks.example.org/T1',
      email: 'ana@example.org',
      events: 'none'
    });
    expect(within(section).getByRole('status').textContent).toBe('Saved.');
    expect(screen.queryByTestId('labworks-notifications-error')).toBeNull();
    expect(field(section, 'E-mail address').value).toBe('ana@example.org');
  });

  it('says how to configure e-mail where the platform cannot send mail', async () => {
    const m = models({
      body: sampleNotify({
        email_available: false,
        email_setup: 'an admin sets c.EmailNotifier.smtp_host'
      })
    });
    const { rerender } = render(view(m, actions()));
    fireEvent.click(
      screen.getByRole('button', { name: 'Notification settings' })
    );
    await waitFor(() => expect(m.notifications.loaded).toBe(true));
    rerender(view(m, actions()));

    const section = screen.getByTestId('labworks-notifications');
    expect(field(section, 'E-mail address').disabled).toBe(false); // kept for later
    expect(section.textContent).toContain(
      'E-mail is not configured on this platform: the address is kept, and mail is sent once it is. To configure it, an admin sets c.EmailNotifier.smtp_host.'
    );
    expect(field(section, 'Webhook URL').disabled).toBe(false);
  });

  it('offers a retry when the settings cannot be read', async () => {
    const m = models(
      {
        status: 502,
        body: { error: 'platform_unreachable', message: 'platform down' }
      },
      { body: sampleNotify() }
    );
    const { rerender } = render(view(m, actions()));
    fireEvent.click(
      screen.getByRole('button', { name: 'Notification settings' })
    );
    await waitFor(() => expect(m.notifications.error).toBe('platform down'));
    rerender(view(m, actions()));
    const section = screen.getByTestId('labworks-notifications');
    expect(field(section, 'Webhook URL').disabled).toBe(true);

    fireEvent.click(within(section).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(m.notifications.loaded).toBe(true));
    rerender(view(m, actions()));
    expect(field(section, 'Webhook URL').disabled).toBe(false);
  });
});

describe('JobsPanel', () => {
  it('loads when shown and polls the listing only while shown', async () => {
    const m = models(listing(sampleJob()), { body: { schedules: [] } });
    const panel = new JobsPanel({ ...m, actions: actions() });
    expect(panel.id).toBe('labworks-jobs');
    expect(panel.title.label).toBe('Jobs');

    act(() => Widget.attach(panel, document.body));
    await waitFor(() => expect(m.model.loaded).toBe(true));
    expect(m.model.active).toBe(true);
    expect(m.schedules.loaded).toBe(true);
    act(() => panel.hide());
    expect(m.model.active).toBe(false);
    act(() => panel.dispose());
    m.model.dispose();
  });
});
