import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../client';
import { DeploymentsClient } from '../../deployments';
import { RegisterModelModel } from '../registerModel';
import { RegistryClient } from '../registry';
import { deployment, sampleRun } from './sample';

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

  describe('with "Serve it"', () => {
    const CHOICES = [
      {
        key: 'model:m-0123',
        label: 'model',
        detail: 'm-0123',
        from: { source: 'models:/m-0123', runId: 'a1', modelId: 'm-0123' }
      }
    ];

    /**
     * The dialog opened as "Register and serve" on models found already
     * (no artifact listing), with its own fake server for the deployments.
     */
    function serveDialog(
      registryAnswers: Parameters<typeof fakeServer>,
      deploymentAnswers: Parameters<typeof fakeServer>
    ) {
      const registry = fakeServer(...registryAnswers);
      const deployments = fakeServer(...deploymentAnswers);
      const model = new RegisterModelModel({
        registry: new RegistryClient(registry.settings),
        experiments: new ExperimentsClient(fakeServer().settings),
        deployments: new DeploymentsClient(deployments.settings),
        run,
        choices: CHOICES,
        name: 'Churn Model',
        serve: true,
        pollMs: 0
      });
      return {
        model,
        registry: registry.requests,
        deployments: deployments.requests
      };
    }

    it('registers a version tagged with its task, then serves it until ready', async () => {
      const { model, registry, deployments } = serveDialog(
        [
          REGISTERED,
          { body: { registered_model: { name: 'Churn Model' } } },
          { body: { model_version: { name: 'Churn Model', version: '1' } } }
        ],
        [
          {
            status: 201,
            body: deployment({
              model: 'Churn Model',
              version: '1',
              name: 'churn-model'
            })
          },
          {
            body: deployment({
              model: 'Churn Model',
              version: '1',
              name: 'churn-model',
              status: 'ready'
            })
          }
        ]
      );
      expect(await model.load()).toBe(true);
      expect(model.choices).toEqual(CHOICES); // not looked for again
      expect(model.serving.enabled).toBe(true);
      expect(model.serving.endpoint).toBe('churn-model');
      model.serving.task = 'classification';
      expect(await model.submit()).toBe(true);
      expect(await bodyOf(registry[2])).toEqual({
        name: 'Churn Model',
        source: 'models:/m-0123',
        run_id: 'a1',
        model_id: 'm-0123',
        tags: [{ key: 'labworks.task', value: 'classification' }]
      });
      expect(await bodyOf(deployments[0])).toEqual({
        model: 'Churn Model',
        version: '1',
        name: 'churn-model',
        task: 'classification'
      });
      expect(model.serving.deployment?.status).toBe('ready');
      expect(model.confirmation).toBe('Registered Churn Model version 1');
    });

    it('serves the same version again after a refusal, without registering another', async () => {
      const noTask = 'version 1 of churn has no task type: pass task';
      const { model, registry, deployments } = serveDialog(
        [
          REGISTERED,
          { body: { model_version: { name: 'churn', version: '1' } } }
        ],
        [
          { status: 400, body: { error: 'invalid', message: noTask } },
          { status: 201, body: deployment({ version: '1', status: 'ready' }) }
        ]
      );
      await model.load();
      model.name = 'churn'; // one of theirs: a new version, no new model
      expect(await model.submit()).toBe(false);
      expect(model.error).toBeNull(); // the registration worked
      expect(model.serving.error).toBe(noTask);
      expect(await bodyOf(registry[1])).not.toHaveProperty('tags'); // detect
      model.serving.task = 'regression';
      expect(await model.submit()).toBe(true);
      expect(registry).toHaveLength(2);
      expect(await bodyOf(deployments[1])).toEqual({
        model: 'churn',
        version: '1',
        name: 'churn',
        task: 'regression'
      });
    });

    it('checks the endpoint name before registering anything', async () => {
      const { model, registry } = serveDialog([REGISTERED], []);
      await model.load();
      model.serving.endpoint = '-bad-';
      expect(model.problem).toMatch(/endpoint name/);
      expect(await model.submit()).toBe(false);
      expect(registry).toHaveLength(1);
      model.serving.enabled = false; // only registering: no endpoint needed
      expect(model.problem).toBeNull();
    });
  });
});
