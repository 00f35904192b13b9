import { fakeServer } from '../../../__tests__/fakeServer';
import { ModelsClient } from '../client';
import { defaultEndpoint } from '../../../common/deployments';
import { ServeForm } from '../serveForm';
import type { IModel } from '../types';

const MODEL: IModel = {
  name: 'Iris_Classifier',
  owner: 'ann',
  visibility: 'private',
  yours: true,
  description: '',
  latest_versions: [
    {
      version: '1',
      run_id: 'r1',
      source: 'runs:/r1/model',
      status: 'READY',
      creation_time: 0
    }
  ],
  aliases: {}
};

describe('defaultEndpoint', () => {
  it('is the model’s name lower-cased, made an endpoint name', () => {
    expect(defaultEndpoint('iris')).toBe('iris');
    expect(defaultEndpoint('Iris_Classifier')).toBe('iris-classifier');
    expect(defaultEndpoint('--A b--')).toBe('a-b');
    expect(defaultEndpoint('x'.repeat(80))).toHaveLength(63);
  });
});

describe('ServeForm', () => {
  it('sends the endpoint name, and the task only when one is chosen', async () => {
    const { settings, requests } = fakeServer(
      { status: 201, body: { name: 'iris-classifier' } },
      { status: 201, body: { name: 'iris2' } }
    );
    const form = new ServeForm({
      client: new ModelsClient(settings),
      model: MODEL,
      version: '1'
    });
    expect(form.name).toBe('iris-classifier');
    expect(await form.submit()).toEqual({ name: 'iris-classifier' });
    form.setName('iris2');
    form.setTask('classification');
    await form.submit();
    const bodies = await Promise.all(requests.map(r => r.text()));
    expect(bodies.map(b => JSON.parse(b))).toEqual([
      { model: 'Iris_Classifier', version: '1', name: 'iris-classifier' },
      {
        model: 'Iris_Classifier',
        version: '1',
        name: 'iris2',
        task: 'classification'
      }
    ]);
    form.dispose();
  });

  it('keeps the platform’s refusal to show in the dialog, and refuses a bad name itself', async () => {
    const message =
      'version 1 of Iris_Classifier has no task type: pass task (classification, regression, multilabel or seq2seq)';
    const { settings, requests } = fakeServer({
      status: 400,
      body: { error: 'invalid', message }
    });
    const form = new ServeForm({
      client: new ModelsClient(settings),
      model: MODEL,
      version: '1'
    });
    expect(await form.submit()).toBeNull();
    expect(form.error).toBe(message);

    form.setName('Not OK');
    expect(form.error).toBeNull();
    expect(form.nameValid).toBe(false);
    expect(form.canSubmit).toBe(false);
    expect(await form.submit()).toBeNull();
    expect(requests).toHaveLength(1);
    form.dispose();
  });
});
