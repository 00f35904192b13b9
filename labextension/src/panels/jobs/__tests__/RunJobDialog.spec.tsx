import { dismissDialog, waitForDialog } from '@jupyterlab/testutils';
import { nullTranslator } from '@jupyterlab/translation';
import { fireEvent, waitFor } from '@testing-library/react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { JobsClient } from '../client';
import { runJobDialog } from '../RunJobDialog';
import type { RunJobResult } from '../runJob';
import { sampleDetail, sampleInspect, sampleSchedule, where } from './sample';

const trans = nullTranslator.load('labworks');

async function open(...answers: IFakeAnswer[]) {
  const server = fakeServer({ body: sampleInspect() }, ...answers);
  const done = runJobDialog({
    client: new JobsClient(server.settings),
    path: 'work/train.ipynb',
    trans,
    profile: 'cpu-small',
    timezone: 'UTC',
    kernels: [
      { name: 'python3', display_name: 'Python 3' },
      { name: 'labworks-python3', display_name: 'Python 3 (Labworks)' }
    ],
    groups: ['ml']
  });
  await waitForDialog();
  const dialog = document.querySelector('.jp-Dialog') as HTMLElement;
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
      await dismissDialog();
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

    await dismissDialog();
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
    accept.click();

    const result = (await done) as RunJobResult;
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

    accept.click();
    const result = (await done) as RunJobResult;
    expect(result.kind).toBe('schedule');
    expect(await requests[2].json()).toEqual(
      expect.objectContaining({ cron: '0 6 * * 1-5', timezone: 'UTC' })
    );
  });
});
