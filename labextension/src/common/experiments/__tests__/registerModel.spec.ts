import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../client';
import { RegisterModelModel } from '../registerModel';
import { RegistryClient } from '../registry';
import { sampleRun } from './sample';

const run = sampleRun('a1', { name: 'base' });

/**
 * The dialog model with one fake server for the registry routes and one for
 * the artifact listings (each answers its own requests in order).
 */
function dialog(
  registryAnswers: Parameters<typeof fakeServer>,
  artifactAnswers: Parameters<typeof fakeServer>
) {
  const registry = fakeServer(...registryAnswers);
  const artifacts = fakeServer(...artifactAnswers);
  const model = new RegisterModelModel({
    registry: new RegistryClient(registry.settings),
    experiments: new ExperimentsClient(artifacts.settings),
    run
  });
  return { model, registry: registry.requests, artifacts: artifacts.requests };
}

const LOGGED = {
  body: {
    models: [
      {
        info: {
          model_id: 'm-0123',
          name: 'model',
          experiment_id: '7',
          source_run_id: 'a1'
        }
      }
    ]
  }
};
const TOP = {
  body: {
    files: [
      { path: 'notes.txt', is_dir: false, file_size: 5 },
      { path: 'sk', is_dir: true },
      { path: 'plots', is_dir: true }
    ]
  }
};
const SK = {
  body: {
    files: [
      { path: 'sk/MLmodel', is_dir: false, file_size: 300 },
      { path: 'sk/model.pkl', is_dir: false, file_size: 900 }
    ]
  }
};
const PLOTS = { body: { files: [{ path: 'plots/loss.png', file_size: 9 }] } };
const REGISTERED = {
  body: {
    models: [
      { name: 'churn', owner: 'ana', visibility: 'private', yours: true },
      { name: 'shared', owner: 'ben', visibility: 'public', yours: false },
      { name: 'fraud', owner: 'ana', visibility: 'group:ml', yours: true }
    ]
  }
};

async function bodyOf(request: Request): Promise<unknown> {
  return JSON.parse(await request.text());
}

describe('RegisterModelModel', () => {
  it("offers the run's logged models and MLmodel folders, and the registered names", async () => {
    const { model, registry, artifacts } = dialog(
      [LOGGED, REGISTERED],
      [TOP, SK, PLOTS]
    );
    expect(await model.load()).toBe(true);
    expect(model.choices.map(c => [c.key, c.label, c.from])).toEqual([
      [
        'model:m-0123',
        'model',
        { source: 'models:/m-0123', runId: 'a1', modelId: 'm-0123' }
      ],
      [
        'folder:sk',
        'sk/',
        { source: 'mlflow-artifacts:/7/a1/artifacts/sk', runId: 'a1' }
      ]
    ]);
    expect(model.choice).toBe('model:m-0123');
    expect(model.existing).toEqual(['churn', 'fraud']);
    expect(registry[0].method).toBe('POST');
    expect(registry[0].url).toContain(
      '/labworks/mlflow/api/2.0/mlflow/logged-models/search'
    );
    expect(await bodyOf(registry[0])).toEqual({
      experiment_ids: ['7'],
      filter: "source_run_id = 'a1'",
      max_results: 100
    });
    expect(registry[1].url).toMatch(/\/labworks\/models(\?\d+)?$/); // only theirs
    expect(artifacts.map(r => new URL(r.url).searchParams.get('path'))).toEqual(
      [null, 'sk', 'plots']
    );
  });

  it('creates a new registered model, then its version from the logged model', async () => {
    const { model, registry } = dialog(
      [
        LOGGED,
        REGISTERED,
        { body: { registered_model: { name: 'churn-v2' } } },
        { body: { model_version: { name: 'churn-v2', version: '1' } } }
      ],
      [TOP, SK, PLOTS]
    );
    await model.load();
    expect(model.problem).toBe('Give the registered model a name.');
    model.name = ' churn-v2 ';
    expect(model.isNew).toBe(true);
    expect(model.problem).toBeNull();
    expect(await model.register()).toBe(true);
    expect(model.confirmation).toBe('Registered churn-v2 version 1');
    expect(registry[2].url).toContain('/registered-models/create');
    expect(await bodyOf(registry[2])).toEqual({ name: 'churn-v2' });
    expect(registry[3].url).toContain('/model-versions/create');
    expect(await bodyOf(registry[3])).toEqual({
      name: 'churn-v2',
      source: 'models:/m-0123',
      run_id: 'a1',
      model_id: 'm-0123'
    });
    // Registering again under the same name adds a version, no new model.
    expect(model.isNew).toBe(false);
  });

  it('adds a version to an existing model from an artifact folder', async () => {
    const { model, registry } = dialog(
      [
        LOGGED,
        REGISTERED,
        { body: { model_version: { name: 'fraud', version: '4' } } }
      ],
      [TOP, SK, PLOTS]
    );
    await model.load();
    model.choice = 'folder:sk';
    model.name = 'fraud';
    expect(model.isNew).toBe(false);
    expect(await model.register()).toBe(true);
    expect(registry).toHaveLength(3);
    expect(await bodyOf(registry[2])).toEqual({
      name: 'fraud',
      source: 'mlflow-artifacts:/7/a1/artifacts/sk',
      run_id: 'a1'
    });
    expect(model.confirmation).toBe('Registered fraud version 4');
  });

  it("shows MLflow's error and no confirmation when refused", async () => {
    const message = 'permission denied: you have no access to this model';
    const { model } = dialog(
      [
        LOGGED,
        REGISTERED,
        {
          status: 403,
          body: { error_code: 'PERMISSION_DENIED', message }
        }
      ],
      [TOP, SK, PLOTS]
    );
    await model.load();
    model.name = 'churn';
    expect(await model.register()).toBe(false);
    expect(model.error).toBe(message);
    expect(model.confirmation).toBeNull();
  });

  it('says so when the run has no model, and sends nothing', async () => {
    const { model, registry } = dialog(
      [{ body: {} }, { body: {} }],
      [{ body: { files: [{ path: 'notes.txt', file_size: 5 }] } }]
    );
    await model.load();
    expect(model.choices).toEqual([]);
    expect(model.problem).toMatch(/no logged model/);
    model.name = 'x';
    expect(await model.register()).toBe(false);
    expect(model.error).toMatch(/no logged model/);
    expect(registry).toHaveLength(2);
  });
});
