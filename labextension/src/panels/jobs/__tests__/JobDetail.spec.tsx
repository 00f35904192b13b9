import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import type { IJobModelRun } from '../../../common/experiments/jobRuns';
import { sampleRun } from '../../../common/experiments/__tests__/sample';
import { JobDetailView } from '../JobDetail';
import { JobsModel } from '../model';
import { NotificationsModel } from '../notifications';
import { SchedulesModel } from '../schedules';
import type { IJobsActions } from '../viewProps';
import { sampleDetail, where } from './sample';

const trans = nullTranslator.load('labworks');

const FOUND: IJobModelRun = {
  run: sampleRun('r1', { name: 'fit' }),
  choices: [
    {
      key: 'model:m-1',
      label: 'model',
      detail: 'm-1',
      from: { source: 'models:/m-1', runId: 'r1', modelId: 'm-1' }
    }
  ]
};

async function settle(): Promise<void> {
  await act(async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
  });
}

function detail(
  status: 'succeeded' | 'failed',
  found: IJobModelRun | null,
  ...answers: Parameters<typeof fakeServer>
) {
  const server = fakeServer(...answers);
  const model = new JobsModel({ serverSettings: server.settings });
  const actions: jest.Mocked<IJobsActions> = {
    openOutput: jest.fn(),
    diff: jest.fn(),
    findModelRun: jest.fn(() => Promise.resolve(found)),
    openModels: jest.fn()
  };
  render(
    <JobDetailView
      model={model}
      schedules={new SchedulesModel(model.client)}
      notifications={new NotificationsModel(model.client)}
      actions={actions}
      user="alice"
      trans={trans}
      job={sampleDetail({ status })}
    />
  );
  return { actions, requests: server.requests };
}

describe('JobDetailView: Register and serve', () => {
  it("opens the serve dialog on the model the job's run logged", async () => {
    const { actions, requests } = detail('succeeded', FOUND, {
      body: { models: [] }
    });
    await settle();
    expect(actions.findModelRun).toHaveBeenCalledWith(
      expect.objectContaining({ id: '4f0c2a9e81d3' })
    );
    const button = screen.getByRole('button', { name: 'Register and serve' });
    expect(button.getAttribute('aria-expanded')).toBe('false');
    fireEvent.click(button);
    await settle();
    screen.getByRole('dialog', { name: 'Register and serve' });
    expect(screen.getByRole('combobox', { name: 'Model' }).textContent).toBe(
      'model (m-1)'
    );
    // Named after the job, served at an endpoint of that name.
    expect(
      (
        screen.getByRole('combobox', {
          name: 'Registered model name'
        }) as HTMLInputElement
      ).value
    ).toBe('train');
    expect(
      (
        screen.getByRole('textbox', {
          name: 'Endpoint name'
        }) as HTMLInputElement
      ).value
    ).toBe('train');
    // The models were found already: only the person's model names are read.
    expect(requests.map(r => where(r).path)).toEqual(['models']);
    fireEvent.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(screen.queryByRole('dialog')).toBeNull();
  });

  it('offers nothing when no run of the job logged a model', async () => {
    const { actions } = detail('succeeded', null);
    await settle();
    expect(actions.findModelRun).toHaveBeenCalled();
    expect(
      screen.queryByRole('button', { name: 'Register and serve' })
    ).toBeNull();
  });

  it('does not look for models of a job that did not succeed', async () => {
    const { actions } = detail('failed', FOUND);
    await settle();
    expect(actions.findModelRun).not.toHaveBeenCalled();
    expect(
      screen.queryByRole('button', { name: 'Register and serve' })
    ).toBeNull();
  });
});
