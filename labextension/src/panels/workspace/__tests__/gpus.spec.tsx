import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import { act, waitFor } from '@testing-library/react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { GPU_POLL_MS, WorkspaceModel } from '../model';
import { WorkspacePanel } from '../Panel';
import { sampleFacts } from './sample';

const GiB = 1024 ** 3;

function gpuLine(): string | null | undefined {
  return document.querySelector('[data-testid="labworks-gpu-0"]')?.textContent;
}

function gpuFacts() {
  const facts = sampleFacts();
  return sampleFacts({ profile: { ...facts.profile, gpu_count: 1 } });
}

function device(utilization: number) {
  return {
    gpus: [
      {
        index: 0,
        name: 'NVIDIA H100',
        memory_total: 80 * GiB,
        memory_used: 12 * GiB,
        utilization
      }
    ]
  };
}

describe('GPU figures in the Workspace panel', () => {
  afterEach(() => {
    jest.useRealTimers();
  });

  it('asks for live GPU figures only when the profile has GPUs', async () => {
    const { settings, requests } = fakeServer({ body: sampleFacts() });
    const model = new WorkspaceModel({ serverSettings: settings });
    await model.refresh();
    expect(requests).toHaveLength(1);
    expect(model.gpus).toEqual([]);
    model.dispose();
  });

  it('shows model, memory and utilization, and polls them', async () => {
    jest.useFakeTimers();
    const { settings, requests } = fakeServer(
      { body: gpuFacts() },
      { body: device(37) },
      { body: { owner: 'alice', url: '/user/alice/lab', shares: [] } },
      { body: device(91) }
    );
    const model = new WorkspaceModel({ serverSettings: settings });
    await model.refresh();
    const panel = new WorkspacePanel({ model, translator: nullTranslator });
    act(() => Widget.attach(panel, document.body));

    await waitFor(() =>
      expect(gpuLine()).toBe('NVIDIA H100 · 12.0 GiB of 80.0 GiB · 37% busy')
    );
    expect(new URL(requests[1].url).pathname).toMatch(/\/labworks\/gpus$/);

    await act(async () => {
      jest.advanceTimersByTime(GPU_POLL_MS);
    });
    await waitFor(() => expect(gpuLine()).toContain('91% busy'));
    act(() => panel.dispose());
    model.dispose();
    const asked = requests.length;
    jest.advanceTimersByTime(3 * GPU_POLL_MS);
    expect(requests).toHaveLength(asked); // no polling after dispose
  });
});
