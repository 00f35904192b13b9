import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, waitFor } from '@testing-library/react';

import { dismiss, openDialog, settle } from '../../../__tests__/act';
import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { JobsClient } from '../../../common/jobs/client';
import { editSchedule } from '../commands';
import { SchedulesModel } from '../schedules';
import type { ISchedule } from '../../../common/jobs/types';
import { sampleInspect, sampleProfiles, sampleSchedule, where } from './sample';

const trans = nullTranslator.load('labworks');

const PREVIEW = {
  cron: '0 6 * * 1-5',
  timezone: 'Europe/Berlin',
  next_runs: [
    '2026-11-24T06:00:00+01:00',
    '2026-11-25T06:00:00+01:00',
    '2026-11-26T06:00:00+01:00'
  ]
};

/**
 * The parameters of report.ipynb: a region (given "emea" by the schedule)
 * and a number of epochs left at its default.
 */
function reportParameters(): IFakeAnswer {
  const [epochs] = sampleInspect().parameters;
  return {
    body: sampleInspect({
      parameters: [
        {
          name: 'region',
          type: 'str',
          default: 'amer',
          default_text: '"amer"',
          help: 'sales region'
        },
        epochs
      ]
    })
  };
}

/**
 * Open "Edit schedule" on the sample schedule, as the panel's Edit button does.
 */
async function open(parameters: IFakeAnswer, ...answers: IFakeAnswer[]) {
  const schedule = sampleSchedule();
  const server = fakeServer(
    { body: { schedules: [schedule] } },
    { body: { profiles: sampleProfiles() } },
    { body: PREVIEW },
    parameters,
    ...answers
  );
  const schedules = new SchedulesModel(new JobsClient(server.settings));
  await schedules.refresh();
  const { started: done, dialog } = await openDialog(() =>
    editSchedule(schedules, schedule, trans)
  );
  await waitFor(() =>
    expect(
      dialog.querySelector('[data-testid="labworks-schedule-preview"]')
    ).not.toBeNull()
  );
  await waitFor(() =>
    expect(dialog.querySelector('.jp-Labworks-loading')).toBeNull()
  );
  const accept = dialog.querySelector(
    '.jp-Dialog-button.jp-mod-accept'
  ) as HTMLButtonElement;
  return { done, dialog, accept, schedules, requests: server.requests };
}

function field(dialog: HTMLElement, id: string): HTMLInputElement {
  return dialog.querySelector(`#${id}`) as HTMLInputElement;
}

describe('editSchedule', () => {
  afterEach(async () => {
    if (document.querySelector('.jp-Dialog')) {
      await dismiss();
    }
  });

  it('shows when it runs, its parameters and profile, and saves the changes', async () => {
    const changed: ISchedule = {
      ...sampleSchedule(),
      cron: '15 7 * * *',
      parameters: { region: 'emea', epochs: 12 },
      profile: 'cpu-large',
      next_run_at: '2026-11-24T06:15:00Z'
    };
    const { done, dialog, accept, schedules, requests } = await open(
      reportParameters(),
      {
        body: {
          ...PREVIEW,
          cron: '15 7 * * *',
          next_runs: [
            '2026-11-24T07:15:00+01:00',
            '2026-11-25T07:15:00+01:00',
            '2026-11-26T07:15:00+01:00'
          ]
        }
      },
      { body: changed }
    );

    expect(where(requests[1]).path).toBe('profiles');
    expect(where(requests[2]).path).toBe('schedules/preview');
    expect(where(requests[3]).path).toBe('schedules/9b3e5f00a1c2/parameters');
    expect(dialog.querySelector('.jp-Dialog-header')?.textContent).toBe(
      'Edit schedule report.ipynb'
    );
    expect(accept.textContent).toBe('Save schedule');
    expect(field(dialog, 'jp-Labworks-jobField-cron').value).toBe(
      '0 6 * * 1-5'
    );
    expect(field(dialog, 'jp-Labworks-jobField-timezone').value).toBe(
      'Europe/Berlin'
    );
    const preview = dialog.querySelector(
      '[data-testid="labworks-schedule-preview"]'
    ) as HTMLElement;
    expect(preview.querySelectorAll('li')).toHaveLength(3);
    expect(preview.textContent).toContain('(Europe/Berlin)');
    // The schedule's own value, and the default of the other parameter.
    expect(field(dialog, 'jp-Labworks-parameter-region').value).toBe('emea');
    expect(field(dialog, 'jp-Labworks-parameter-epochs').value).toBe('10');
    const profile = field(
      dialog,
      'jp-Labworks-jobField-profile'
    ) as unknown as HTMLSelectElement;
    expect(profile.value).toBe('cpu-small');
    expect(Array.from(profile.options).map(o => o.disabled)).toEqual([
      false,
      false,
      true
    ]);

    fireEvent.change(field(dialog, 'jp-Labworks-jobField-cron'), {
      target: { value: '15 7 * * *' }
    });
    await waitFor(() => expect(preview.textContent).toContain('07:15'));
    expect(await requests[4].json()).toEqual({
      cron: '15 7 * * *',
      timezone: 'Europe/Berlin',
      count: 3
    });

    const epochs = field(dialog, 'jp-Labworks-parameter-epochs');
    fireEvent.change(epochs, { target: { value: 'twelve' } });
    await waitFor(() =>
      expect(epochs.getAttribute('aria-invalid')).toBe('true')
    );
    await settle(async () => accept.click());
    await waitFor(() =>
      expect(
        dialog.querySelector('[data-testid="labworks-edit-schedule-error"]')
          ?.textContent
      ).toBe('Correct the fields marked in red first.')
    );
    expect(requests).toHaveLength(5); // nothing sent

    fireEvent.change(epochs, { target: { value: '12' } });
    fireEvent.change(profile, { target: { value: 'cpu-large' } });
    await waitFor(() => expect(profile.value).toBe('cpu-large'));
    const result = await settle(() => {
      accept.click();
      return done;
    });

    expect(result).toEqual(changed);
    expect(requests[5].method).toBe('PATCH');
    expect(where(requests[5]).path).toBe('schedules/9b3e5f00a1c2');
    expect(await requests[5].json()).toEqual({
      cron: '15 7 * * *',
      timezone: 'Europe/Berlin',
      parameters: { region: 'emea', epochs: 12 },
      profile: 'cpu-large'
    });
    expect(schedules.schedules[0].cron).toBe('15 7 * * *');
    expect(document.querySelector('.jp-Dialog')).toBeNull();
  });

  it('keeps the platform’s refusal in the dialog, and a cancel changes nothing', async () => {
    const message =
      "profile 'cpu-large' is not available: limited to groups ml";
    const { done, dialog, accept, schedules, requests } = await open(
      reportParameters(),
      { status: 400, body: { error: 'bad_request', message } }
    );
    const profile = field(
      dialog,
      'jp-Labworks-jobField-profile'
    ) as unknown as HTMLSelectElement;
    fireEvent.change(profile, { target: { value: 'cpu-large' } });
    await waitFor(() => expect(profile.value).toBe('cpu-large'));

    await settle(async () => accept.click());
    await waitFor(() =>
      expect(
        dialog.querySelector('[data-testid="labworks-edit-schedule-error"]')
          ?.textContent
      ).toBe(message)
    );
    expect(await requests[4].json()).toEqual({
      cron: '0 6 * * 1-5',
      timezone: 'Europe/Berlin',
      parameters: { region: 'emea' },
      profile: 'cpu-large'
    });
    expect(profile.value).toBe('cpu-large'); // nothing typed is lost

    await dismiss();
    expect(await done).toBeNull();
    expect(schedules.schedules[0]).toEqual(sampleSchedule());
  });

  it('lets the schedule’s own values be changed when the notebook cannot be read', async () => {
    const { dialog } = await open({
      status: 404,
      body: {
        error: 'not_found',
        message: 'no notebook at report.ipynb in this workspace'
      }
    });

    expect(dialog.textContent).toContain(
      'The notebook’s parameters could not be read (no notebook at report.ipynb in this workspace)'
    );
    const region = field(dialog, 'jp-Labworks-parameter-region');
    expect(region.value).toBe('emea');
    expect(dialog.querySelector('#jp-Labworks-parameter-epochs')).toBeNull();
  });
});
