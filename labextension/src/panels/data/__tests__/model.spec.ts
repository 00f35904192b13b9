import { fakeServer } from '../../../__tests__/fakeServer';
import { codeSnippet, datasetEndPoint } from '../client';
import { DataModel } from '../model';
import { sampleDataset, sampleDetail, sampleVersionDetail } from './sample';

function path(request: Request): string {
  return decodeURIComponent(new URL(request.url).pathname).replace(
    /^.*\/labworks\//,
    ''
  );
}

describe('DataModel', () => {
  it('lists the datasets and filters them by ref or description', async () => {
    const { settings, requests } = fakeServer({
      body: {
        datasets: [
          sampleDataset('alice/iris'),
          sampleDataset('bob/churn', { description: 'Customer churn' })
        ]
      }
    });
    const model = new DataModel({ serverSettings: settings });
    expect(await model.refresh()).toBe(true);
    expect(path(requests[0])).toBe('datasets');
    expect(model.loaded).toBe(true);
    model.setFilter('IRIS');
    expect(model.shown.map(d => d.ref)).toEqual(['alice/iris']);
    model.setFilter('churn');
    expect(model.shown.map(d => d.ref)).toEqual(['bob/churn']);
    model.setFilter('customer');
    expect(model.shown.map(d => d.ref)).toEqual(['bob/churn']);
    model.setFilter('  ');
    expect(model.shown).toHaveLength(2);
    model.dispose();
  });

  it('opens a dataset with the files of its latest version, then another version', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleDetail() },
      { body: sampleVersionDetail('alice/iris', 2) },
      { body: sampleVersionDetail('alice/iris', 1) }
    );
    const model = new DataModel({ serverSettings: settings });
    expect(await model.select('alice/iris')).toBe(true);
    expect(requests.map(path)).toEqual([
      'datasets/alice/iris',
      'datasets/alice/iris/versions/2'
    ]);
    expect(model.selected?.versions.map(v => v.number)).toEqual([2, 1]);
    expect(model.version?.files.map(f => f.path)).toEqual([
      'test.csv',
      'train/part-0.csv'
    ]);
    expect(await model.chooseVersion(1)).toBe(true);
    expect(path(requests[2])).toBe('datasets/alice/iris/versions/1');
    expect(model.version?.number).toBe(1);

    expect(await model.select('alice/iris')).toBe(true); // closes it
    expect(model.selected).toBeNull();
    expect(model.version).toBeNull();
    expect(requests).toHaveLength(3);
    model.dispose();
  });

  it('keeps the chosen version open on refresh, and closes a dataset no longer readable', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleDetail() },
      { body: sampleVersionDetail('alice/iris', 2) },
      { body: sampleVersionDetail('alice/iris', 1) },
      { body: { datasets: [sampleDataset()] } },
      { body: sampleDetail() },
      { body: sampleVersionDetail('alice/iris', 1) },
      { body: { datasets: [] } },
      {
        status: 404,
        body: { error: 'not_found', message: 'no dataset alice/iris' }
      }
    );
    const model = new DataModel({ serverSettings: settings });
    await model.select('alice/iris');
    await model.chooseVersion(1);
    expect(await model.refresh()).toBe(true);
    expect(path(requests[5])).toBe('datasets/alice/iris/versions/1');
    expect(model.version?.number).toBe(1);

    expect(await model.refresh()).toBe(true);
    expect(model.error).toBeNull();
    expect(model.selected).toBeNull();
    expect(model.datasets).toEqual([]);
    model.dispose();
  });

  it("keeps the platform's message when a request fails", async () => {
    const { settings } = fakeServer({
      status: 502,
      body: {
        error: 'platform_unreachable',
        message: 'platform service unreachable'
      }
    });
    const model = new DataModel({ serverSettings: settings });
    expect(await model.refresh()).toBe(false);
    expect(model.error).toBe('platform service unreachable');
    expect(model.loaded).toBe(false);
    model.dispose();
  });

  it('opens a dataset that has no version yet without asking for files', async () => {
    const { settings, requests } = fakeServer({
      body: sampleDataset('alice/empty', { latest_version: null })
    });
    const model = new DataModel({ serverSettings: settings });
    expect(await model.select('alice/empty')).toBe(true);
    expect(model.version).toBeNull();
    expect(requests).toHaveLength(1);
    model.dispose();
  });
});

describe('datasetEndPoint and codeSnippet', () => {
  it('escapes each part of the ref and writes the two lines of a notebook', () => {
    expect(datasetEndPoint('al ice/iris.v2')).toBe('datasets/al%20ice/iris.v2');
    expect(codeSnippet('alice/iris', 3)).toBe(
      'from labworks import data\npath = data.get("alice/iris", version=3)'
    );
  });
});
