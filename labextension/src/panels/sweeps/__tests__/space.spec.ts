import { nullTranslator } from '@jupyterlab/translation';

import { fakeServer } from '../../../__tests__/fakeServer';
import { JobsClient } from '../../../common/jobs/client';
import type { IParameterInfo, ParameterType } from '../../../common/jobs/types';
import { SweepsClient } from '../client';
import { buildSpace, proposeRow } from '../space';
import { SweepForm } from '../sweepForm';
import { sweep } from './sample';

const trans = nullTranslator.load('labworks');

function param(
  name: string,
  type: ParameterType,
  value: unknown
): IParameterInfo {
  return {
    name,
    type,
    default: value,
    default_text: JSON.stringify(value),
    help: ''
  };
}

describe('proposeRow', () => {
  it('proposes a range or choices from the default', () => {
    const lr = proposeRow(param('lr', 'float', 0.01));
    expect([lr.type, lr.low, lr.high, lr.search]).toEqual([
      'log-float',
      '0.001',
      '0.1',
      true
    ]);
    const x = proposeRow(param('x', 'float', 0.0));
    expect([x.type, x.low, x.high]).toEqual(['float', '-1', '1']);
    const layers = proposeRow(param('layers', 'int', 3));
    expect([layers.type, layers.low, layers.high]).toEqual(['int', '1', '6']);
    const kernel = proposeRow(param('kernel', 'str', 'rbf'));
    expect([kernel.type, kernel.choices]).toEqual(['categorical', 'rbf']);
    expect(proposeRow(param('flag', 'bool', true)).choices).toBe('true, false');
    expect(proposeRow(param('sizes', 'list', [1, 2])).search).toBe(false);
  });
});

describe('buildSpace', () => {
  it('turns the searched rows into the platform’s space, choices typed', () => {
    const rows = [
      proposeRow(param('lr', 'float', 0.01)),
      { ...proposeRow(param('layers', 'int', 3)), step: '1' },
      { ...proposeRow(param('kernel', 'str', 'rbf')), choices: 'rbf, linear' },
      {
        ...proposeRow(param('batch', 'int', 32)),
        type: 'categorical' as const,
        choices: '16, 32'
      },
      { ...proposeRow(param('seed', 'int', 1)), search: false }
    ];
    expect(buildSpace(rows, trans)).toEqual({
      space: {
        lr: { type: 'log-float', low: 0.001, high: 0.1 },
        layers: { type: 'int', low: 1, high: 6, step: 1 },
        kernel: { type: 'categorical', choices: ['rbf', 'linear'] },
        batch: { type: 'categorical', choices: [16, 32] }
      },
      errors: {}
    });
  });

  it('names each row at fault', () => {
    const x = proposeRow(param('x', 'float', 0));
    const n = proposeRow(param('n', 'int', 3));
    const rows = [
      { ...x, low: '1', high: '1' },
      { ...n, low: '1.5' },
      { ...proposeRow(param('lr', 'float', 0.1)), low: '0' },
      {
        ...proposeRow(param('k', 'int', 1)),
        type: 'categorical' as const,
        choices: 'a, b'
      },
      { ...proposeRow(param('s', 'str', 'a')), choices: ' , ' },
      { ...proposeRow(param('y', 'float', 0)), step: '-1' }
    ];
    const { errors, space } = buildSpace(rows, trans);
    expect(space).toEqual({});
    expect(errors).toEqual({
      x: 'Low must be below high.',
      n: 'An int parameter needs whole bounds.',
      lr: 'A log-float parameter needs a low above 0.',
      k: 'The choices must be values of type int.',
      s: 'Give at least one choice, separated by commas.',
      y: 'The step must be a number above 0.'
    });
  });

  it('asks for at least one searched parameter', () => {
    const rows = [{ ...proposeRow(param('x', 'float', 0)), search: false }];
    expect(buildSpace(rows, trans).errors).toEqual({
      '': 'Search at least one parameter.'
    });
  });
});

describe('SweepForm', () => {
  const inspected = {
    body: {
      kernel_name: 'python3',
      language: 'python',
      has_parameters_cell: true,
      inspectable: true,
      parameters: [param('x', 'float', 0)]
    }
  };

  function form(...answers: Parameters<typeof fakeServer>) {
    const { settings, requests } = fakeServer(inspected, ...answers);
    const f = new SweepForm({
      client: new SweepsClient(settings),
      jobs: new JobsClient(settings),
      path: 'work/quad.ipynb',
      profile: 'cpu',
      trans
    });
    return { f, requests };
  }

  it('pre-fills from the parameters cell and sends the sweep', async () => {
    const { f, requests } = form({ status: 201, body: sweep() });
    await f.load();
    expect(f.rows.map(r => [r.name, r.type, r.low, r.high])).toEqual([
      ['x', 'float', '-1', '1']
    ]);
    expect(f.canSubmit).toBe(false); // no metric yet
    f.set('metric', ' loss ');
    f.set('trials', '12');

    expect((await f.submit())?.id).toBe('0123456789ab');
    expect(await requests[1].json()).toEqual({
      path: 'work/quad.ipynb',
      space: { x: { type: 'float', low: -1, high: 1 } },
      metric: 'loss',
      direction: 'minimize',
      sampler: 'tpe',
      pruner: 'none',
      trials: 12,
      parallel: 2,
      profile: 'cpu'
    });
  });

  it('sends a cost cap when one is given, and refuses one that is no amount', async () => {
    const { f, requests } = form({ status: 201, body: sweep() });
    await f.load();
    f.set('metric', 'loss');
    f.set('maxCost', '-2');
    expect(await f.submit()).toBeNull();
    expect(f.error).toBe('The cost cap must be an amount above 0, or empty.');
    expect(requests).toHaveLength(1); // nothing sent
    f.set('maxCost', '2.5');
    expect((await f.submit())?.id).toBe('0123456789ab');
    expect((await requests[1].json()).max_cost_usd).toBe(2.5);
  });

  it('shows the platform’s 400 and stays open', async () => {
    const { f } = form({
      status: 400,
      body: {
        error: 'invalid',
        message: 'parallel: above your quota of 4 jobs'
      }
    });
    await f.load();
    f.set('metric', 'loss');
    f.set('parallel', '64');

    expect(await f.submit()).toBeNull();
    expect(f.error).toBe('parallel: above your quota of 4 jobs');
  });

  it('refuses a bad row or count without asking the platform', async () => {
    const { f, requests } = form();
    await f.load();
    f.set('metric', 'loss');
    f.setRow('x', { low: '2' });

    expect(await f.submit()).toBeNull();
    expect(f.rowErrors).toEqual({ x: 'Low must be below high.' });
    expect(f.error).toBe('Fix the parameters marked in red.');
    f.setRow('x', { low: '0' });
    f.set('trials', '0');
    expect(await f.submit()).toBeNull();
    expect(f.error).toBe('Trials must be a whole number of at least 1.');
    expect(requests).toHaveLength(1);
  });

  it('says when the notebook has nothing to search', async () => {
    const { settings } = fakeServer({
      body: { ...inspected.body, has_parameters_cell: false, parameters: [] }
    });
    const f = new SweepForm({
      client: new SweepsClient(settings),
      jobs: new JobsClient(settings),
      path: 'a.ipynb',
      trans
    });
    await f.load();
    expect(f.error).toMatch(/no parameters to search/);
  });
});
