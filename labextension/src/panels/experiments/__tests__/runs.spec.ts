import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../../../common/experiments/client';
import { ExperimentsModel } from '../model';
import { IColumnStore, RUNS_PAGE, RunsModel } from '../runs';
import type { IRun } from '../../../common/experiments/types';
import { sampleExperiment, samplePage, sampleRun, where } from './sample';

function page(runs: IRun[], next?: string): IFakeAnswer {
  return { body: samplePage(runs, next) };
}

function runsModel(
  answers: (IFakeAnswer | Promise<IFakeAnswer>)[],
  columnStore: IColumnStore | null = null
) {
  const server = fakeServer(...answers);
  const client = new ExperimentsClient(server.settings);
  const model = new RunsModel({
    client,
    experiment: sampleExperiment(),
    columnStore
  });
  return { model, requests: server.requests };
}

class MemoryStore implements IColumnStore {
  items = new Map<string, string>();
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

describe('RunsModel', () => {
  it('asks for one page of runs, then the next with its token', async () => {
    const { model, requests } = runsModel([
      page([sampleRun('a'), sampleRun('b')], 'tok-1'),
      page([sampleRun('c')])
    ]);
    await model.refresh();
    expect(where(requests[0]).path).toBe('experiments/runs/table');
    expect(requests[0].method).toBe('POST');
    expect(await requests[0].json()).toEqual({
      experiment_ids: ['7'],
      filter: '',
      max_results: RUNS_PAGE,
      order_by: [],
      columns: { metrics: [], params: [], tags: [] }
    });
    expect(model.complete).toBe(false);
    await model.loadMore();
    expect((await requests[1].json()).page_token).toBe('tok-1');
    expect(model.runs.map(r => r.info.run_id)).toEqual(['a', 'b', 'c']);
    expect(model.complete).toBe(true);
    expect(await model.loadMore()).toBe(false); // nothing more to ask
    expect(requests).toHaveLength(2);
    model.dispose();
  });

  it('sends the search, the column filters and the sort to MLflow', async () => {
    const { model, requests } = runsModel([
      page([]),
      page([]),
      page([]),
      page([])
    ]);
    await model.setSearch("params.opt = 'adam'");
    await model.setColumnFilter({ kind: 'metric', key: 'val acc' }, '> 0.5');
    await model.toggleSort({ kind: 'metric', key: 'val acc' });
    const body = await requests[2].json();
    expect(body.filter).toBe("params.opt = 'adam' and metrics.`val acc` > 0.5");
    expect(body.order_by).toEqual(['metrics.`val acc` DESC']);
    await model.toggleSort({ kind: 'metric', key: 'val acc' });
    expect((await requests[3].json()).order_by).toEqual([
      'metrics.`val acc` ASC'
    ]);
    model.dispose();
  });

  it('shows MLflow’s message for a bad filter, with no runs', async () => {
    const { model } = runsModel([
      page([sampleRun('a')]),
      {
        status: 400,
        body: {
          error: 'INVALID_PARAMETER_VALUE',
          message: "Invalid comparator '>>>' not one of '{'<', '>'}"
        }
      }
    ]);
    await model.refresh();
    expect(await model.setSearch('metrics.acc >>> 1')).toBe(false);
    expect(model.error).toBe("Invalid comparator '>>>' not one of '{'<', '>'}");
    expect(model.runs).toEqual([]);
    model.dispose();
  });

  it('ignores a page that arrives after the filter changed', async () => {
    let answerSlow: (answer: IFakeAnswer) => void = () => undefined;
    const slow = new Promise<IFakeAnswer>(resolve => (answerSlow = resolve));
    const { model } = runsModel([slow, page([sampleRun('new')])]);
    const first = model.refresh();
    await model.setSearch('tags.x = 1');
    answerSlow(page([sampleRun('old')]));
    await first;
    expect(model.runs.map(r => r.info.run_id)).toEqual(['new']);
    model.dispose();
  });

  it('shows the first metrics and parameters until columns are chosen, then remembers them', async () => {
    const store = new MemoryStore();
    const metrics: Record<string, number> = {};
    for (let i = 0; i < 200; i++) {
      metrics[`m${String(i).padStart(3, '0')}`] = i;
    }
    const run = sampleRun('a', { metrics, params: { lr: '0.1' } });
    const bare = { ...run, data: {} };
    const { model, requests } = runsModel(
      [
        { body: { ...samplePage([run]), runs: [bare] } },
        page([run]),
        page([run])
      ],
      store
    );
    await model.refresh();
    // The first page says which keys there are; it is asked again with the
    // values of the first 6 metrics and the first parameter.
    expect(requests).toHaveLength(2);
    expect((await requests[1].json()).columns).toEqual({
      metrics: ['m000', 'm001', 'm002', 'm003', 'm004', 'm005'],
      params: ['lr'],
      tags: []
    });
    expect(model.keys.metric).toHaveLength(200);
    expect(model.columns.map(c => c.key)).toEqual([
      'm000', 'm001', 'm002', 'm003', 'm004', 'm005', 'lr'
    ]); // prettier-ignore
    model.setColumns([{ kind: 'metric', key: 'm001' }]);
    expect(requests).toHaveLength(2); // its values are here
    model.setColumns([{ kind: 'metric', key: 'm150' }]);
    expect(store.getItem('labworks:experiments:columns:7')).toBe(
      '["metric:m150"]'
    );
    // A new column: the page is asked again, with its values.
    await new Promise(resolve => setTimeout(resolve, 0));
    expect(requests).toHaveLength(3);
    expect((await requests[2].json()).columns).toEqual({
      metrics: ['m150'],
      params: [],
      tags: []
    });
    model.dispose();
    const again = runsModel([], store).model;
    expect(again.columns).toEqual([{ kind: 'metric', key: 'm150' }]);
    again.dispose();
  });

  it('fetches the selected runs whole for a comparison', async () => {
    const full = sampleRun('a', { metrics: { acc: 1, loss: 2 } });
    const { model, requests } = runsModel([
      page([sampleRun('a'), sampleRun('b')]),
      { body: { run: full } },
      { status: 404, body: { error: 'not_found', message: 'run b is gone' } }
    ]);
    await model.refresh();
    model.toggle(model.runs[0]);
    expect(await model.fetchSelected()).toEqual([full]);
    expect(where(requests[1]).path).toBe('mlflow/api/2.0/mlflow/runs/get');
    model.toggle(model.runs[0]);
    model.toggle(model.runs[1]);
    expect(await model.fetchSelected()).toBeNull();
    expect(model.error).toBe('run b is gone');
    model.dispose();
  });

  it('keeps selected runs across filters', async () => {
    const { model } = runsModel([
      page([sampleRun('a'), sampleRun('b')]),
      page([sampleRun('c')])
    ]);
    await model.refresh();
    model.toggle(model.runs[1]);
    model.toggleAll();
    expect(model.selected).toEqual(['b', 'a']);
    model.toggleAll();
    expect(model.selected).toEqual([]);
    model.toggle(model.runs[0]);
    await model.setSearch('tags.x = 1');
    expect(model.selectedRuns.map(r => r.info.run_id)).toEqual(['a']);
    expect(model.isSelected('c')).toBe(false);
    model.dispose();
  });
});

describe('ExperimentsModel', () => {
  it('lists experiments last updated first, narrowed by name', async () => {
    const server = fakeServer(
      { body: { experiments: [sampleExperiment()], next_page_token: 'n' } },
      { body: { experiments: [sampleExperiment('8', 'other')] } },
      { body: {} }
    );
    const model = new ExperimentsModel({ serverSettings: server.settings });
    await model.refresh();
    expect(await server.requests[0].json()).toEqual({
      filter: '',
      max_results: 100,
      order_by: ['last_update_time DESC'],
      view_type: 'ACTIVE_ONLY'
    });
    expect(model.hasMore).toBe(true);
    await model.loadMore();
    expect((await server.requests[1].json()).page_token).toBe('n');
    expect(model.experiments.map(e => e.name)).toEqual([
      'users/alice',
      'other'
    ]);
    expect(model.find('8')?.name).toBe('other');
    await model.setSearch("bob's");
    expect((await server.requests[2].json()).filter).toBe(
      "name ILIKE '%bob\\'s%'"
    );
    expect(model.experiments).toEqual([]);
    expect(model.loaded).toBe(true);
    model.dispose();
  });
});
