import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor
} from '@testing-library/react';
import React, { useEffect, useReducer } from 'react';

import type { IFakeAnswer } from '../../../__tests__/fakeServer';
import { ModelsModel } from '../model';
import { ModelsView } from '../Panel';
import type { IDeploymentDetail } from '../types';
import type { IModelsActions, IModelsViewProps } from '../viewProps';

const trans = nullTranslator.load('labworks');

const DEPLOYMENT: IDeploymentDetail = {
  name: 'iris',
  owner: 'ann',
  visibility: 'private',
  model: 'Iris',
  version: '1',
  canary_version: '2',
  canary_percent: 20,
  task: 'classification',
  status: 'failed',
  reason: 'version 2 exited: ModuleNotFoundError: No module named torch',
  url: 'http://hub/services/labworks/models/v2/models/iris/infer',
  created_at: '2026-12-05T14:00:00Z',
  updated_at: '2026-12-05T14:00:00Z',
  servers: [
    {
      version: '1',
      role: 'stable',
      status: 'ready',
      reason: '',
      restarts: 0,
      started_at: null,
      ready_at: null,
      traffic: {
        requests: 40,
        errors: 1,
        rate_per_second: 0.5,
        error_rate: 0.02,
        p50_ms: 3.2,
        p99_ms: 9
      }
    }
  ],
  events: [
    {
      at: '2026-12-05T14:01:00Z',
      actor: 'ann',
      action: 'traffic',
      detail: { canary: '2', percent: 20 },
      reason: 'try v2'
    }
  ]
};

/**
 * Server settings answering each `METHOD path` (below /labworks/) from a
 * table; the requests, recorded.
 */
function routedServer(routes: Record<string, IFakeAnswer>): {
  settings: ServerConnection.ISettings;
  requests: Request[];
} {
  const requests: Request[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    requests.push(request);
    const path = new URL(request.url).pathname.split('/labworks/')[1];
    const answer = routes[`${request.method} ${path}`];
    if (answer === undefined) {
      throw new Error(`routedServer: no answer for ${request.method} ${path}`);
    }
    const { status = 200, body } = answer;
    return new Response(body === undefined ? null : JSON.stringify(body), {
      status
    });
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

async function settle(): Promise<void> {
  await act(async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
  });
}

async function shown(
  acting: IModelsActions,
  routes: Record<string, IFakeAnswer> = {}
): Promise<{ model: ModelsModel; requests: Request[] }> {
  const { settings, requests } = routedServer({
    'GET models': { body: { models: [] } },
    'GET deployments': { body: { deployments: [DEPLOYMENT] } },
    'GET deployments/iris': { body: DEPLOYMENT },
    ...routes
  });
  const model = new ModelsModel({ serverSettings: settings });
  await model.refresh();
  await model.select('iris');
  render(<Live model={model} actions={acting} trans={trans} />);
  return { model, requests };
}

describe('DeploymentView', () => {
  it('shows the status with its reason, the split, live figures and the history', async () => {
    const copy = jest.fn();
    const { model } = await shown(actions({ copy }));
    const detail = screen.getByTestId('labworks-deployment-detail');
    expect(detail.textContent).toContain('failed');
    expect(screen.getByRole('status').textContent).toBe(DEPLOYMENT.reason);
    expect(screen.getByTestId('labworks-deployment-stable').textContent).toBe(
      'version 1 (80%)'
    );
    expect(screen.getByTestId('labworks-deployment-canary').textContent).toBe(
      'version 2 (20%)'
    );
    expect(screen.getByTestId('labworks-server-1').textContent).toBe(
      'v1 stable ready0.5 req/sp50 3.2 ms1 errors of 40 requests'
    );
    expect(
      screen.getByTestId('labworks-deployment-history').textContent
    ).toContain('ann traffic canary=2 percent=20 — try v2');
    fireEvent.click(screen.getByRole('button', { name: 'Copy' }));
    expect(copy).toHaveBeenCalledWith(DEPLOYMENT.url);
    model.dispose();
  });

  it('gives a reader no owner actions', async () => {
    const { model } = await shown(actions({ user: 'ben' }));
    expect(screen.queryByRole('button', { name: 'Undeploy…' })).toBeNull();
    expect(screen.queryByRole('button', { name: 'Share…' })).toBeNull();
    expect(screen.queryByRole('form', { name: 'Canary' })).toBeNull();
    expect(screen.getByRole('button', { name: 'Try it' })).toBeTruthy();
    model.dispose();
  });

  it('sends the canary form, promotes, and undeploys only once confirmed', async () => {
    const promoted = {
      ...DEPLOYMENT,
      version: '2',
      canary_version: null,
      canary_percent: 0
    };
    const confirmUndeploy = jest
      .fn()
      .mockResolvedValueOnce(false)
      .mockResolvedValueOnce(true);
    const { model, requests } = await shown(actions({ confirmUndeploy }), {
      'PUT deployments/iris/traffic': {
        body: { ...DEPLOYMENT, canary_percent: 50 }
      },
      'POST deployments/iris/promote': { body: promoted },
      'DELETE deployments/iris': {
        status: 202,
        body: { ...promoted, status: 'stopped' }
      }
    });
    const form = screen.getByRole('form', { name: 'Canary' });
    fireEvent.change(screen.getByLabelText('Percent'), {
      target: { value: '50' }
    });
    fireEvent.change(screen.getByLabelText('Reason'), {
      target: { value: 'more' }
    });
    fireEvent.submit(form);
    await waitFor(() =>
      expect(screen.getByTestId('labworks-deployment-canary').textContent).toBe(
        'version 2 (50%)'
      )
    );
    const traffic = requests.find(r => r.method === 'PUT')!;
    expect(await traffic.json()).toEqual({
      canary_version: '2',
      percent: 50,
      reason: 'more'
    });

    fireEvent.click(screen.getByRole('button', { name: 'Promote' }));
    await waitFor(() =>
      expect(screen.getByTestId('labworks-deployment-stable').textContent).toBe(
        'version 2 (100%)'
      )
    );

    fireEvent.click(screen.getByRole('button', { name: 'Undeploy…' }));
    await settle();
    expect(requests.some(r => r.method === 'DELETE')).toBe(false);
    fireEvent.click(screen.getByRole('button', { name: 'Undeploy…' }));
    await waitFor(() =>
      expect(screen.queryByTestId('labworks-deployment-detail')).toBeNull()
    );
    expect(requests.filter(r => r.method === 'DELETE')).toHaveLength(1);
    model.dispose();
  });
});
