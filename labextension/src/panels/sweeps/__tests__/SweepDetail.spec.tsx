import { ServerConnection } from '@jupyterlab/services';
import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen } from '@testing-library/react';
import React, { useEffect, useReducer } from 'react';

import type { IFakeAnswer } from '../../../__tests__/fakeServer';
import { SweepsModel } from '../model';
import { SweepsView } from '../Panel';
import type { ISweepActions, ISweepsViewProps } from '../viewProps';
import { sweep } from './sample';

const trans = nullTranslator.load('labworks');
const ID = '0123456789ab';
const MLFLOW = 'mlflow/api/2.0/mlflow';

/**
 * Server settings answering each `METHOD path` (below /labworks/) from a
 * table, whatever the order the requests come in; the requests, recorded.
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
    baseUrl: 'http://localhost:8888/user/al ice@lab/',
    fetch: fetch as typeof globalThis.fetch
  });
  return { settings, requests };
}

function sent(requests: Request[]): string[] {
  return requests.map(
    r => `${r.method} ${new URL(r.url).pathname.split('/labworks/')[1]}`
  );
}

function actions(fields: Partial<ISweepActions> = {}): ISweepActions {
  return {
    user: 'alice',
    openRun: null,
    openJob: jest.fn(),
    askTrials: jest.fn(() => Promise.resolve(null)),
    share: jest.fn(() => Promise.resolve()),
    confirmDelete: jest.fn(() => Promise.resolve(false)),
    rerunStarted: jest.fn(),
    ...fields
  };
}

/**
 * The panel's view, rendered again whenever its model changes (as the
 * panel's widget does).
 */
function Live(props: ISweepsViewProps): JSX.Element {
  const [, update] = useReducer((n: number) => n + 1, 0);
  useEffect(() => {
    props.model.changed.connect(update);
    return () => {
      props.model.changed.disconnect(update);
    };
  }, [props.model]);
  return <SweepsView {...props} />;
}

async function settle(): Promise<void> {
  await act(async () => {
    await new Promise(resolve => setTimeout(resolve, 0));
  });
}

function button(name: string): HTMLButtonElement {
  return screen.getByRole('button', { name }) as HTMLButtonElement;
}

async function shown(
  routes: Record<string, IFakeAnswer>,
  acting: ISweepActions = actions()
): Promise<{ model: SweepsModel; requests: Request[] }> {
  const { settings, requests } = routedServer(routes);
  const model = new SweepsModel({ serverSettings: settings, pollMs: 1e9 });
  await model.refresh();
  await model.select(ID);
  render(<Live model={model} actions={acting} trans={trans} />);
  return { model, requests };
}

describe('SweepDetailView: Register best model', () => {
  it('opens the Experiments panel’s dialog on the best trial’s run', async () => {
    const done = sweep({ status: 'succeeded' });
    const { model, requests } = await shown({
      'GET sweeps': { body: { sweeps: [done] } },
      [`GET sweeps/${ID}`]: { body: done },
      [`GET ${MLFLOW}/runs/get`]: {
        body: {
          run: {
            info: {
              run_id: 'run1',
              experiment_id: '1',
              artifact_uri: 'mlflow-artifacts:/1/run1/artifacts'
            },
            data: {}
          }
        }
      },
      [`POST ${MLFLOW}/logged-models/search`]: {
        body: { models: [{ info: { model_id: 'm-1', name: 'model' } }] }
      },
      [`GET ${MLFLOW}/artifacts/list`]: { body: { files: [] } },
      'GET models': { body: { models: [] } }
    });
    const register = button('Register best model');
    expect(register.disabled).toBe(false);
    expect(register.title).toBe(
      'Register the model the best trial logged (MLflow run run1)'
    );

    fireEvent.click(register);
    await settle();
    await settle();
    const dialog = screen.getByRole('dialog', { name: 'Register model' });
    expect(screen.getByRole('combobox', { name: 'Model' }).textContent).toBe(
      'model (m-1)'
    );
    expect(dialog.textContent).toContain('Source: models:/m-1');
    const search = requests.find(r => r.url.includes('logged-models'))!;
    expect(await search.json()).toMatchObject({
      experiment_ids: ['1'],
      filter: "source_run_id = 'run1'"
    });

    fireEvent.click(button('Cancel'));
    expect(screen.queryByRole('dialog')).toBeNull();
    model.dispose();
  });

  it('is disabled, saying why, while the sweep has no best trial', async () => {
    const none = sweep({
      best_trial: null,
      best_value: null,
      best_params: null,
      best_run_id: null
    });
    const { model, requests } = await shown({
      'GET sweeps': { body: { sweeps: [none] } },
      [`GET sweeps/${ID}`]: { body: none }
    });
    const register = button('Register best model');
    expect(register.disabled).toBe(true);
    expect(register.title).toBe(
      'No best trial yet: its model can be registered once a trial completes'
    );
    expect(button('Re-run best as job').disabled).toBe(true);
    fireEvent.click(register);
    await settle();
    expect(screen.queryByRole('dialog')).toBeNull();
    expect(sent(requests)).toEqual(['GET sweeps', `GET sweeps/${ID}`]);
    model.dispose();
  });

  it('is disabled when the best trial logged no MLflow run', async () => {
    const runless = sweep({ best_run_id: null });
    const { model } = await shown({
      'GET sweeps': { body: { sweeps: [runless] } },
      [`GET sweeps/${ID}`]: { body: runless }
    });
    const register = button('Register best model');
    expect(register.disabled).toBe(true);
    expect(register.title).toBe('The best trial logged no MLflow run');
    expect(button('Re-run best as job').disabled).toBe(false);
    model.dispose();
  });
});

describe('SweepDetailView: Delete', () => {
  const running = sweep();
  const routes = {
    'GET sweeps': { body: { sweeps: [running] } },
    [`GET sweeps/${ID}`]: { body: running },
    [`DELETE sweeps/${ID}`]: { status: 204 }
  };

  it('asks first, and does nothing when cancelled', async () => {
    const acting = actions();
    const { model, requests } = await shown(routes, acting);
    fireEvent.click(button('Delete…'));
    await settle();
    expect(acting.confirmDelete).toHaveBeenCalledWith(running);
    expect(sent(requests)).not.toContain(`DELETE sweeps/${ID}`);
    expect(screen.getByTestId('labworks-sweep-detail')).toBeTruthy();
    model.dispose();
  });

  it('deletes once confirmed, then shows the list without the sweep', async () => {
    const acting = actions({
      confirmDelete: jest.fn(() => Promise.resolve(true))
    });
    const { model, requests } = await shown(routes, acting);
    fireEvent.click(button('Delete…'));
    await settle();
    expect(sent(requests)).toContain(`DELETE sweeps/${ID}`);
    expect(screen.queryByTestId('labworks-sweep-detail')).toBeNull();
    expect(screen.getByText(/No sweeps yet/)).toBeTruthy();
    model.dispose();
  });

  it('shows no actions on someone else’s sweep', async () => {
    const { model } = await shown(routes, actions({ user: 'bob' }));
    expect(screen.getByTestId('labworks-sweep-detail')).toBeTruthy();
    expect(screen.queryByRole('button', { name: 'Delete…' })).toBeNull();
    expect(
      screen.queryByRole('button', { name: 'Register best model' })
    ).toBeNull();
    model.dispose();
  });
});
