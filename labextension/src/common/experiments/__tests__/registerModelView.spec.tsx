import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../client';
import { RegisterModelModel } from '../registerModel';
import { RegisterModelDialog } from '../registerModelView';
import { RegistryClient } from '../registry';
import { sampleRun } from './sample';

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
});
