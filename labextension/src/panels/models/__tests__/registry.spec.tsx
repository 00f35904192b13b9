import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React, { useEffect, useReducer } from 'react';

import type { IFakeAnswer } from '../../../__tests__/fakeServer';
import { ModelsModel } from '../model';
import { ModelsView } from '../Panel';
import { aliasProblem, describeEvent, lineageFacts } from '../registry';
import type {
  IModel,
  IModelEvent,
  IVersionDetail,
  IVersionSummary
} from '../types';
import type { IModelsActions, IModelsViewProps } from '../viewProps';

const trans = nullTranslator.load('labworks');
const NAME = 'team/churn';
const PATH = 'models/team%2Fchurn';

const MODEL: IModel = {
  name: NAME,
  owner: 'ann',
  visibility: 'private',
  yours: true,
  description: '',
  latest_versions: [],
  aliases: { production: '1' }
};

const V1: IVersionDetail = {
  name: NAME,
  version: '1',
  run_id: 'abc123def4567890',
  source: 'models:/m-1',
  status: 'READY',
  description: '',
  creation_time: 1764900000000,
  aliases: ['production'],
  task: 'classification',
  task_inferred: true,
  editable: true,
  lineage: {
    run_id: 'abc123def4567890',
    readable: true,
    run_name: 'fit',
    notebook: 'work/train.ipynb',
    job_id: '0123456789ab',
    job_name: 'nightly',
    parameters: { C: '1.0', epochs: '3' },
    datasets: [
      { name: 'ann/iris', version: '2' },
      { name: 'ben/extra', version: '' }
    ],
    image_digest: 'sha256:abc',
    env_hash: 'ignored-with-a-digest'
  }
};

const VERSIONS: IVersionSummary[] = [
  { ...V1, version: '2', aliases: [], task: null },
  { ...V1, task: null }
];

function event(changes: Partial<IModelEvent>): IModelEvent {
  return {
    at: '2026-12-05T14:00:00Z',
    actor: 'ann',
    action: 'register',
    alias: null,
    from_version: null,
    to_version: '1',
    detail: {},
    reason: '',
    ...changes
  };
}

const HISTORY = [
  event({
    action: 'alias.set',
    alias: 'production',
    from_version: '2',
    to_version: '1',
    reason: 'rolled back'
  }),
  event({})
];

/**
 * A request's path below /labworks/ with its query, without the number
 * requestAPI adds to keep it from any cache.
 */
function route(request: Request): string {
  const url = new URL(request.url);
  const path = url.pathname.split('/labworks/')[1];
  return path + url.search.replace(/[?&][0-9]+$/, '');
}

function routedServer(routes: Record<string, IFakeAnswer[]>): {
  settings: ServerConnection.ISettings;
  requests: Request[];
} {
  const requests: Request[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    requests.push(request);
    const path = route(request);
    const queue = routes[`${request.method} ${path}`];
    const answer = queue && (queue.length > 1 ? queue.shift() : queue[0]);
    if (answer === undefined) {
      throw new Error(`routedServer: no answer for ${request.method} ${path}`);
    }
    const { status = 200, body } = answer;
    return new Response(JSON.stringify(body), { status });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/an n@lab/',
    fetch: fetch as typeof globalThis.fetch
  });
  return { settings, requests };
}

function actions(fields: Partial<IModelsActions> = {}): IModelsActions {
  return {
    user: 'ann',
    serve: jest.fn(() => Promise.resolve()),
    copy: jest.fn(),
    share: jest.fn(() => Promise.resolve()),
    openRun: jest.fn(),
    confirmUndeploy: jest.fn(() => Promise.resolve(false)),
    ...fields
  };
}

function Live(props: IModelsViewProps): JSX.Element {
  const [, update] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    props.model.changed.connect(update);
    return () => {
      props.model.changed.disconnect(update);
    };
  }, [props.model]);
  return <ModelsView {...props} />;
}

async function opened(
  acting: IModelsActions,
  routes: Record<string, IFakeAnswer[]> = {},
  version: IVersionDetail = V1
): Promise<{ model: ModelsModel; requests: Request[] }> {
  const { settings, requests } = routedServer({
    'GET models': [{ body: { models: [MODEL] } }],
    'GET deployments': [{ body: { deployments: [] } }],
    [`GET ${PATH}/versions`]: [{ body: { versions: VERSIONS } }],
    [`GET ${PATH}/history`]: [{ body: { name: NAME, events: HISTORY } }],
    [`GET ${PATH}/versions/2`]: [{ body: { ...version, version: '2' } }],
    [`GET ${PATH}/versions/1`]: [{ body: version }],
    ...routes
  });
  const model = new ModelsModel({ serverSettings: settings });
  await model.refresh();
  render(<Live model={model} actions={acting} trans={trans} />);
  await act(async () => {
    fireEvent.click(screen.getByRole('button', { name: 'Details' }));
    await new Promise(resolve => setTimeout(resolve, 0));
  });
  await act(async () => {
    fireEvent.click(screen.getByRole('button', { name: 'Version 1' }));
    await new Promise(resolve => setTimeout(resolve, 0));
  });
  return { model, requests };
}

function sent(requests: Request[]): string[] {
  return requests.map(r => `${r.method} ${route(r)}`);
}

describe('the registry helpers', () => {
  it('checks alias names as MLflow does', () => {
    expect(aliasProblem('production', trans)).toBeNull();
    expect(aliasProblem('stage_2-b', trans)).toBeNull();
    expect(aliasProblem('a b', trans)).toContain('letters, digits');
    expect(aliasProblem('x'.repeat(256), trans)).toContain('letters, digits');
    expect(aliasProblem('latest', trans)).toContain('reserved');
    expect(aliasProblem('V3', trans)).toContain('reserved');
  });

  it('says each change in words', () => {
    const words = (e: Partial<IModelEvent>) => describeEvent(event(e), trans);
    expect(words({})).toBe('registered v1');
    expect(words({ action: 'alias.set', alias: 'prod' })).toBe(
      'set @prod to v1'
    );
    expect(
      words({
        action: 'alias.set',
        alias: 'prod',
        from_version: '1',
        to_version: '2'
      })
    ).toBe('moved @prod from v1 to v2');
    expect(
      words({
        action: 'alias.delete',
        alias: 'prod',
        from_version: '2',
        to_version: null
      })
    ).toBe('removed @prod (was v2)');
    expect(
      words({
        action: 'task',
        detail: { from: 'classification', to: 'multilabel' }
      })
    ).toBe('changed the task of v1 from classification to multilabel');
    expect(
      words({ action: 'task', detail: { from: '', to: 'regression' } })
    ).toBe('set the task of v1 to regression');
  });

  it('lists the lineage that was recorded, the image digest over the environment', () => {
    const facts = lineageFacts(V1.lineage!, trans).map(
      f => `${f.label}: ${f.value}`
    );
    expect(facts).toEqual([
      'Notebook: work/train.ipynb',
      'Job: nightly (0123456789ab)',
      'Parameters: C=1.0, epochs=3',
      'Datasets: ann/iris v2, ben/extra',
      'Image: sha256:abc'
    ]);
    expect(lineageFacts({ run_id: 'r', readable: false }, trans)).toEqual([]);
    const billed = { run_id: 'r', readable: true, cost_usd: 0.0042 };
    expect(lineageFacts(billed, trans)).toEqual([
      { label: 'Cost', value: '$0.0042' }
    ]);
  });
});

describe('RegistryView', () => {
  it('shows versions, the task, lineage with a link to the run, and the history', async () => {
    const openRun = jest.fn();
    const { model, requests } = await opened(actions({ openRun }));
    const detail = screen.getByTestId('labworks-registry-detail');
    expect(detail.textContent).toContain(NAME);
    expect(screen.getByTestId('labworks-registry-v1').textContent).toContain(
      '@production'
    );
    expect(screen.getByTestId('labworks-registry-task').textContent).toBe(
      'classification (inferred from its signature)'
    );
    expect(detail.textContent).toContain('Parameters');
    expect(detail.textContent).toContain('C=1.0, epochs=3');
    fireEvent.click(screen.getByRole('button', { name: 'fit' }));
    expect(openRun).toHaveBeenCalledWith('abc123def4567890');
    expect(
      screen.getByTestId('labworks-registry-history').textContent
    ).toContain('ann moved @production from v2 to v1 — rolled back');
    // The newest version is shown first, then the one picked.
    expect(sent(requests)).toContain(`GET ${PATH}/versions/2`);
    expect(sent(requests).slice(-1)).toEqual([`GET ${PATH}/versions/1`]);
    model.dispose();
  });

  it('sets the task and an alias with a reason, and removes an alias', async () => {
    const moved = {
      ...V1,
      aliases: ['production', 'staging'],
      task_inferred: false
    };
    const { model, requests } = await opened(actions(), {
      [`PUT ${PATH}/versions/1/task`]: [
        { body: { ...V1, task: 'multilabel' } }
      ],
      [`PUT ${PATH}/aliases/staging`]: [{ body: moved }],
      [`DELETE ${PATH}/aliases/production?reason=`]: [
        { body: { name: NAME, events: [] } }
      ]
    });
    const taskForm = screen.getByRole('form', { name: 'Task type' });
    fireEvent.change(taskForm.querySelector('select')!, {
      target: { value: 'multilabel' }
    });
    fireEvent.change(taskForm.querySelector('input')!, {
      target: { value: 'two labels' }
    });
    await act(async () => {
      fireEvent.submit(taskForm);
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    const aliasForm = screen.getByRole('form', { name: 'Alias' });
    const [aliasInput] = Array.from(aliasForm.querySelectorAll('input'));
    fireEvent.change(aliasInput, { target: { value: 'latest' } });
    expect(aliasForm.textContent).toContain('reserved');
    expect(
      screen
        .getByRole('button', { name: 'Set alias on v1' })
        .hasAttribute('disabled')
    ).toBe(true);
    fireEvent.change(aliasInput, { target: { value: 'staging' } });
    await act(async () => {
      fireEvent.submit(aliasForm);
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    await act(async () => {
      fireEvent.click(
        screen.getByRole('button', { name: 'Remove alias production' })
      );
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    const writes = requests.filter(r => r.method !== 'GET');
    expect(sent(writes)).toEqual([
      `PUT ${PATH}/versions/1/task`,
      `PUT ${PATH}/aliases/staging`,
      `DELETE ${PATH}/aliases/production?reason=`
    ]);
    expect(await writes[0].json()).toEqual({
      task: 'multilabel',
      reason: 'two labels'
    });
    expect(await writes[1].json()).toEqual({ version: '1', reason: '' });
    expect(model.opened?.error).toBeNull();
    model.dispose();
  });

  it('gives a reader no forms and no link to a run they cannot read', async () => {
    const reader: IVersionDetail = {
      ...V1,
      editable: false,
      lineage: { run_id: 'abc123def4567890', readable: false }
    };
    const { model } = await opened(actions({ user: 'ben' }), {}, reader);
    expect(screen.queryByRole('form', { name: 'Task type' })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Alias' })).toBeNull();
    expect(screen.queryByRole('button', { name: /Remove alias/ })).toBeNull();
    expect(screen.queryByRole('button', { name: 'fit' })).toBeNull();
    expect(
      screen.getByTestId('labworks-registry-version').textContent
    ).toContain('abc123def456');
    model.dispose();
  });

  it('shows the refusal of a change and goes back to the lists', async () => {
    const { model } = await opened(actions(), {
      [`PUT ${PATH}/aliases/prod`]: [
        {
          status: 403,
          body: { error: 'forbidden', message: 'only the owner of model' }
        }
      ]
    });
    expect(await model.opened!.setAlias('prod', '1', '')).toBe(false);
    await act(async () => {
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    expect(screen.getByRole('alert').textContent).toContain(
      'only the owner of model'
    );
    await act(async () => {
      fireEvent.click(screen.getByRole('button', { name: '← Models' }));
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    expect(model.opened).toBeNull();
    expect(screen.queryByTestId('labworks-registry-detail')).toBeNull();
    model.dispose();
  });
});
