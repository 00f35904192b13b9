import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../client';
import { DeploymentsClient } from '../../deployments';
import { RegisterModelModel } from '../registerModel';
import { RegisterModelDialog } from '../registerModelView';
import { RegistryClient } from '../registry';
import { deployment, sampleRun } from './sample';

const trans = nullTranslator.load('labworks');

async function settle(): Promise<void> {
  await act(async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
  });
}

describe('RegisterModelDialog', () => {
  it('registers the chosen model under a new name and says so', async () => {
    const registry = fakeServer(
      { body: { models: [{ info: { model_id: 'm-1', name: 'model' } }] } },
      { body: { registered_models: [{ name: 'fraud' }] } },
      { body: { registered_model: { name: 'churn' } } },
      { body: { model_version: { name: 'churn', version: '1' } } }
    );
    const artifacts = fakeServer({ body: { files: [] } });
    const model = new RegisterModelModel({
      registry: new RegistryClient(registry.settings),
      experiments: new ExperimentsClient(artifacts.settings),
      run: sampleRun('a1')
    });
    const onClose = jest.fn();
    render(
      <RegisterModelDialog model={model} trans={trans} onClose={onClose} />
    );
    await settle();
    const dialog = screen.getByRole('dialog', { name: 'Register model' });
    const chooser = screen.getByRole('combobox', { name: 'Model' });
    expect(chooser.textContent).toBe('model (m-1)');
    expect(dialog.textContent).toContain('Source: models:/m-1');
    const register = screen.getByRole('button', { name: 'Register' });
    expect((register as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(
      screen.getByRole('combobox', { name: 'Registered model name' }),
      { target: { value: 'churn' } }
    );
    expect(dialog.textContent).toContain(
      'A new registered model, private to you.'
    );
    expect((register as HTMLButtonElement).disabled).toBe(false);
    fireEvent.click(register);
    await settle();
    await settle();
    expect(screen.getByRole('status').textContent).toBe(
      'Registered churn version 1'
    );
    fireEvent.click(screen.getByRole('button', { name: 'Close' }));
    expect(onClose).toHaveBeenCalled();
  });

  it('says so when the run has no model', async () => {
    const registry = fakeServer({ body: {} }, { body: {} });
    const artifacts = fakeServer({ body: { files: [] } });
    const model = new RegisterModelModel({
      registry: new RegistryClient(registry.settings),
      experiments: new ExperimentsClient(artifacts.settings),
      run: sampleRun('a2')
    });
    render(
      <RegisterModelDialog model={model} trans={trans} onClose={jest.fn()} />
    );
    await settle();
    expect(screen.getByRole('dialog').textContent).toContain(
      'This run has no logged model'
    );
    expect(
      (screen.getByRole('button', { name: 'Register' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);
  });

  it('registers and serves, shows the endpoint starting, then its URL', async () => {
    const registry = fakeServer(
      { body: { models: [] } },
      { body: { registered_model: { name: 'Churn' } } },
      { body: { model_version: { name: 'Churn', version: '1' } } }
    );
    let ready: (answer: { body: unknown }) => void = () => undefined;
    const deployments = fakeServer(
      { status: 201, body: deployment({ version: '1' }) },
      new Promise(resolve => (ready = resolve))
    );
    const model = new RegisterModelModel({
      registry: new RegistryClient(registry.settings),
      experiments: new ExperimentsClient(fakeServer().settings),
      deployments: new DeploymentsClient(deployments.settings),
      run: sampleRun('a1'),
      choices: [
        {
          key: 'model:m-1',
          label: 'model',
          detail: 'm-1',
          from: { source: 'models:/m-1', runId: 'a1', modelId: 'm-1' }
        }
      ],
      name: 'Churn',
      serve: true,
      pollMs: 0
    });
    const onOpenModels = jest.fn();
    render(
      <RegisterModelDialog
        model={model}
        trans={trans}
        onClose={jest.fn()}
        onOpenModels={onOpenModels}
      />
    );
    await settle();
    const dialog = screen.getByRole('dialog', { name: 'Register and serve' });
    expect(
      (screen.getByRole('checkbox', { name: 'Serve it' }) as HTMLInputElement)
        .checked
    ).toBe(true);
    expect(
      (
        screen.getByRole('textbox', {
          name: 'Endpoint name'
        }) as HTMLInputElement
      ).value
    ).toBe('churn');
    const task = screen.getByRole('combobox', {
      name: 'Task type'
    }) as HTMLSelectElement;
    expect(task.value).toBe(''); // detect from the model
    expect(task.selectedOptions[0].textContent).toBe('Detect from the model');
    fireEvent.click(screen.getByRole('button', { name: 'Register and serve' }));
    await settle();
    await settle();
    expect(screen.getByTestId('labworks-registered').textContent).toBe(
      'Registered Churn version 1'
    );
    expect(screen.getByTestId('labworks-serve-progress').textContent).toBe(
      'Starting endpoint churn (version 1)…'
    );
    await act(async () => {
      ready({ body: deployment({ version: '1', status: 'ready' }) });
    });
    await settle();
    expect(screen.getByTestId('labworks-serve-ready').textContent).toContain(
      'Serving Churn version 1 at endpoint churn, ready:'
    );
    expect(screen.getByTestId('labworks-serve-url').textContent).toBe(
      'http://hub/services/labworks/models/v2/models/churn/infer'
    );
    // Served: nothing more to press but Close and the Models panel.
    expect(
      (screen.getByRole('button', { name: 'Serve' }) as HTMLButtonElement)
        .disabled
    ).toBe(true);
    fireEvent.click(
      screen.getByRole('button', { name: 'Open in Models panel' })
    );
    expect(onOpenModels).toHaveBeenCalled();
    expect(within(dialog).queryByRole('alert')).toBeNull();
  });

  it("shows the platform's refusal to serve in the dialog", async () => {
    const taken = 'an endpoint named churn exists already';
    const registry = fakeServer(
      { body: {} }, // no logged model: the MLmodel at the top
      { body: { models: [] } },
      { body: { registered_model: { name: 'churn' } } },
      { body: { model_version: { name: 'churn', version: '1' } } }
    );
    const deployments = fakeServer({
      status: 409,
      body: { error: 'conflict', message: taken }
    });
    const artifacts = fakeServer({
      body: { files: [{ path: 'MLmodel', file_size: 3 }] }
    });
    const model = new RegisterModelModel({
      registry: new RegistryClient(registry.settings),
      experiments: new ExperimentsClient(artifacts.settings),
      deployments: new DeploymentsClient(deployments.settings),
      run: sampleRun('a1')
    });
    // Opened as "Register model": serving is one checkbox away.
    render(
      <RegisterModelDialog model={model} trans={trans} onClose={jest.fn()} />
    );
    await settle();
    await settle();
    expect(screen.getByRole('dialog', { name: 'Register model' })).toBeTruthy();
    expect(screen.queryByRole('textbox', { name: 'Endpoint name' })).toBeNull();
    fireEvent.click(screen.getByRole('checkbox', { name: 'Serve it' }));
    fireEvent.change(
      screen.getByRole('combobox', { name: 'Registered model name' }),
      { target: { value: 'churn' } }
    );
    fireEvent.click(screen.getByRole('button', { name: 'Register and serve' }));
    await settle();
    await settle();
    expect(screen.getByRole('alert').textContent).toBe(taken);
    // Registered already: the button now only serves.
    expect(
      (screen.getByRole('button', { name: 'Serve' }) as HTMLButtonElement)
        .disabled
    ).toBe(false);
  });
});
