import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, waitFor } from '@testing-library/react';

import { dismiss, openDialog, settle } from '../../../__tests__/act';
import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { JobsClient } from '../../../common/jobs/client';
import { samplePrices } from '../../../common/__tests__/costSample';
import { runJobDialog } from '../RunJobDialog';
import type { RunJobResult } from '../runJob';
import type { IJobProfile } from '../../../common/jobs/types';
import {
  sampleDetail,
  sampleInspect,
  sampleProfiles,
  sampleSchedule,
  where
} from './sample';

const trans = nullTranslator.load('labworks');

async function open(...answers: IFakeAnswer[]) {
  return openWith({}, ...answers);
}

async function openWith(
  options: { profile?: string; profiles?: IJobProfile[] },
  ...answers: IFakeAnswer[]
) {
  const server = fakeServer({ body: sampleInspect() }, ...answers);
  const { started: done, dialog } = await openDialog(() =>
    runJobDialog({
      client: new JobsClient(server.settings),
      path: 'work/train.ipynb',
      trans,
      profile: options.profile ?? 'cpu-small',
      profiles: options.profiles,
      timezone: 'UTC',
      kernels: [
        { name: 'python3', display_name: 'Python 3' },
        { name: 'labworks-python3', display_name: 'Python 3 (Labworks)' }
      ],
      groups: ['ml']
    })
  );
  await waitFor(() =>
    expect(dialog.querySelector('#jp-Labworks-parameter-epochs')).not.toBeNull()
  );
  const accept = dialog.querySelector(
    '.jp-Dialog-button.jp-mod-accept'
  ) as HTMLButtonElement;
  return { done, dialog, accept, requests: server.requests };
}

function field(dialog: HTMLElement, id: string): HTMLInputElement {
  return dialog.querySelector(`#${id}`) as HTMLInputElement;
}

describe('runJobDialog', () => {
  afterEach(async () => {
    if (document.querySelector('.jp-Dialog')) {
      await dismiss();
    }
  });

  it('shows each parameter with its type, default and comment', async () => {
    const { done, dialog, accept } = await open();

    const epochs = dialog.querySelector(
      '[data-testid="labworks-parameter-epochs"]'
    ) as HTMLElement;
    expect(epochs.textContent).toContain('epochs int');
    expect(epochs.textContent).toContain('passes over the data · default 10');
    expect(field(dialog, 'jp-Labworks-parameter-epochs').value).toBe('10');
    expect(field(dialog, 'jp-Labworks-parameter-dataset').value).toBe('train');
    expect(field(dialog, 'jp-Labworks-jobField-profile').value).toBe(
      'cpu-small'
    );
    const kernels = dialog.querySelector(
      '#jp-Labworks-jobField-kernel'
    ) as HTMLSelectElement;
    expect(Array.from(kernels.options).map(o => o.textContent)).toEqual([
      'the notebook’s own (python3)',
      'Python 3 (Labworks)'
    ]);
    expect(accept.textContent).toBe('Run job');
    expect(accept.disabled).toBe(false);

    await dismiss();
    expect(await done).toBeNull();
  });

  it('marks a wrong value inline, stays open, and submits once corrected', async () => {
    const { done, dialog, accept, requests } = await open({
      status: 201,
      body: sampleDetail({ status: 'queued' })
    });
    const epochs = field(dialog, 'jp-Labworks-parameter-epochs');

    fireEvent.change(epochs, { target: { value: 'ten' } });
    await waitFor(() =>
      expect(epochs.getAttribute('aria-invalid')).toBe('true')
    );
    const error = dialog.querySelector(
      '#jp-Labworks-parameter-epochs-error'
    ) as HTMLElement;
    expect(error.textContent).toBe(
      'epochs must be an integer (int), not "ten"'
    );
    expect(error.getAttribute('role')).toBe('alert');

    accept.click();
    await waitFor(() =>
      expect(
        dialog.querySelector('[data-testid="labworks-run-job-error"]')
          ?.textContent
      ).toBe('Correct the fields marked in red first.')
    );
    expect(document.querySelector('.jp-Dialog')).not.toBeNull();
    expect(requests).toHaveLength(1);

    fireEvent.change(epochs, { target: { value: '25' } });
    await waitFor(() => expect(epochs.getAttribute('aria-invalid')).toBeNull());

    const result = (await settle(() => {
      accept.click();
      return done;
    })) as RunJobResult;
    expect(result.kind).toBe('job');
    expect(await requests[1].json()).toEqual(
      expect.objectContaining({
        path: 'work/train.ipynb',
        parameters: { epochs: 25 }
      })
    );
    expect(document.querySelector('.jp-Dialog')).toBeNull();
  });

  it('keeps the platform’s refusal in the dialog', async () => {
    const { dialog, accept } = await open({
      status: 400,
      body: {
        error: 'bad_request',
        message: "no kernel named 'julia' here; installed: python3"
      }
    });
    accept.click();
    await waitFor(() =>
      expect(
        dialog.querySelector('[data-testid="labworks-run-job-error"]')
          ?.textContent
      ).toBe("no kernel named 'julia' here; installed: python3")
    );
    expect(document.querySelector('.jp-Dialog')).not.toBeNull();
  });

  it('turns into a schedule with a preview of the next three runs', async () => {
    const next = [
      '2026-11-24T06:00:00+00:00',
      '2026-11-25T06:00:00+00:00',
      '2026-11-26T06:00:00+00:00'
    ];
    const { done, dialog, accept, requests } = await open(
      { body: { cron: '0 6 * * 1-5', timezone: 'UTC', next_runs: next } },
      { status: 201, body: sampleSchedule() }
    );
    const check = Array.from(
      dialog.querySelectorAll<HTMLInputElement>('input[type="checkbox"]')
    ).find(c => c.parentElement?.textContent?.includes('schedule'))!;
    fireEvent.click(check);

    await waitFor(() => expect(accept.textContent).toBe('Create schedule'));
    const preview = await waitFor(() => {
      const node = dialog.querySelector(
        '[data-testid="labworks-schedule-preview"]'
      );
      expect(node).not.toBeNull();
      return node as HTMLElement;
    });
    expect(preview.querySelectorAll('li')).toHaveLength(3);
    expect(preview.textContent).toContain('(UTC)');
    expect(where(requests[1]).path).toBe('schedules/preview');

    const result = (await settle(() => {
      accept.click();
      return done;
    })) as RunJobResult;
    expect(result.kind).toBe('schedule');
    expect(await requests[2].json()).toEqual(
      expect.objectContaining({ cron: '0 6 * * 1-5', timezone: 'UTC' })
    );
  });
});

describe('runJobDialog profiles', () => {
  afterEach(async () => {
    if (document.querySelector('.jp-Dialog')) {
      await dismiss();
    }
  });

  it('offers the profiles jobs run on, the unavailable ones disabled with the reason', async () => {
    const { done, dialog, accept, requests } = await openWith(
      { profile: 'cpu-large', profiles: sampleProfiles() },
      { status: 201, body: sampleDetail({ profile: 'cpu-small' }) }
    );
    const select = dialog.querySelector(
      '#jp-Labworks-jobField-profile'
    ) as HTMLSelectElement;
    expect(select.tagName).toBe('SELECT');
    expect(select.value).toBe('cpu-large'); // this workspace's profile
    const options = Array.from(select.options);
    expect(options.map(o => o.textContent)).toEqual([
      'CPU small · 2 cores · 4.0 GiB',
      'CPU large · 8 cores · 32.0 GiB',
      '1 GPU · 8 cores · 32.0 GiB · 1 GPU (H100) — unavailable'
    ]);
    expect(options.map(o => o.disabled)).toEqual([false, false, true]);
    expect(options[2].title).toBe(
      'cannot run jobs here: needs 1 GPU(s); jobs here have no GPU'
    );

    fireEvent.change(select, { target: { value: 'cpu-small' } });
    await waitFor(() =>
      expect(dialog.textContent).toContain(
        '2 cores, 4 GiB memory: notebooks, small data.'
      )
    );
    await settle(() => {
      accept.click();
      return done;
    });
    expect(await requests[1].json()).toEqual(
      expect.objectContaining({ profile: 'cpu-small' })
    );
  });

  it('proposes the platform’s default when this workspace’s profile cannot run jobs', async () => {
    const { done, dialog } = await openWith({
      profile: 'gpu-1',
      profiles: sampleProfiles()
    });
    expect(
      (
        dialog.querySelector(
          '#jp-Labworks-jobField-profile'
        ) as HTMLSelectElement
      ).value
    ).toBe('cpu-small');
    await dismiss();
    expect(await done).toBeNull();
  });
});

describe('runJobDialog’s price', () => {
  afterEach(async () => {
    if (document.querySelector('.jp-Dialog')) {
      await dismiss();
    }
  });

  it('shows what an hour on the chosen profile costs', async () => {
    const server = fakeServer({ body: sampleInspect() });
    const { started: done, dialog } = await openDialog(() =>
      runJobDialog({
        client: new JobsClient(server.settings),
        path: 'work/train.ipynb',
        trans,
        profile: 'cpu-small',
        profiles: sampleProfiles(),
        timezone: 'UTC',
        kernels: [],
        groups: [],
        prices: samplePrices()
      })
    );
    const price = () =>
      dialog.querySelector('[data-testid="labworks-profile-price"]')!;
    await waitFor(() => expect(price().textContent).toBe('$0.40/h'));
    expect(dialog.textContent).toContain(
      'from what the profile reserves, at the platform’s prices'
    );
    fireEvent.change(dialog.querySelector('#jp-Labworks-jobField-profile')!, {
      target: { value: 'cpu-large' }
    });
    await waitFor(() => expect(price().textContent).toBe('$2.50/h'));
    expect(dialog.textContent).toContain('the profile’s own price');
    fireEvent.change(dialog.querySelector('#jp-Labworks-jobField-profile')!, {
      target: { value: 'gpu-1' }
    });
    await waitFor(() => expect(price().textContent).toBe('—'));
    await dismiss();
    expect(await done).toBeNull();
  });

  it('shows no price when the prices could not be read', async () => {
    const { done, dialog } = await open();
    expect(
      dialog.querySelector('[data-testid="labworks-profile-price"]')
    ).toBeNull();
    await dismiss();
    expect(await done).toBeNull();
  });
});
