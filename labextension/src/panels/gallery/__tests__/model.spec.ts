import { fakeServer } from '../../../__tests__/fakeServer';
import { GalleryModel } from '../model';
import { sampleDetail, sampleEntry } from './sample';

/**
 * The route below /labworks/ and its query, without the cache-busting number.
 */
function endPoint(request: Request): string {
  const url = new URL(request.url);
  const query = url.search.replace(/[?&]\d+$/, '');
  return url.pathname.replace(/^.*\/labworks\//, '') + query;
}

describe('GalleryModel', () => {
  it('lists the entries of my groups', async () => {
    const { settings, requests } = fakeServer({
      body: { entries: [sampleEntry()] }
    });
    const model = new GalleryModel({ serverSettings: settings });
    const busy: boolean[] = [];
    model.changed.connect(() => busy.push(model.busy));

    expect(await model.refresh()).toBe(true);

    expect(endPoint(requests[0])).toBe('gallery');
    expect(model.entries.map(e => e.name)).toEqual(['focus.ipynb']);
    expect(model.loaded).toBe(true);
    expect(busy).toEqual([true, false]);
    model.dispose();
  });

  it('opens an entry with its versions and closes it again', async () => {
    const { settings, requests } = fakeServer({ body: sampleDetail() });
    const model = new GalleryModel({ serverSettings: settings });

    await model.select(7);
    expect(endPoint(requests[0])).toBe('gallery/7');
    expect(model.selected?.versions.map(v => v.number)).toEqual([1, 2]);

    await model.select(7);
    expect(model.selected).toBeNull();
    expect(requests).toHaveLength(1);
    model.dispose();
  });

  it('publishes a notebook by its path and shows the entry', async () => {
    const published = {
      entry: sampleEntry({ latest_version: 3 }),
      version: { ...sampleDetail().versions[1], number: 3 }
    };
    const { settings, requests } = fakeServer(
      { status: 201, body: published },
      { body: { entries: [published.entry] } },
      { body: sampleDetail() }
    );
    const model = new GalleryModel({ serverSettings: settings });

    const result = await model.publish('work/focus.ipynb', 'ml', 'tuned');

    expect(result?.version.number).toBe(3);
    expect(requests[0].method).toBe('POST');
    expect(await requests[0].json()).toEqual({
      path: 'work/focus.ipynb',
      group: 'ml',
      message: 'tuned'
    });
    expect(requests.map(endPoint)).toEqual(['gallery', 'gallery', 'gallery/7']);
    expect(model.selected?.id).toBe(7);
    model.dispose();
  });

  it('keeps the reason when publishing is refused', async () => {
    const { settings } = fakeServer({
      status: 403,
      body: {
        error: 'forbidden',
        message: "you are not a member of group 'finance'"
      }
    });
    const model = new GalleryModel({ serverSettings: settings });

    expect(await model.publish('a.ipynb', 'finance', '')).toBeNull();
    expect(model.error).toBe("you are not a member of group 'finance'");
    model.dispose();
  });

  it('copies a version and writes the diff files', async () => {
    const { settings, requests } = fakeServer(
      {
        status: 201,
        body: { path: 'Gallery/ml/focus-v1.ipynb', created: true }
      },
      {
        body: {
          base: '.labworks/gallery/7/v1.ipynb',
          remote: '.labworks/gallery/7/v2.ipynb'
        }
      }
    );
    const model = new GalleryModel({ serverSettings: settings });

    expect(await model.copy(7, 1)).toBe('Gallery/ml/focus-v1.ipynb');
    expect(await model.diffFiles(7, 1, 2)).toEqual({
      base: '.labworks/gallery/7/v1.ipynb',
      remote: '.labworks/gallery/7/v2.ipynb'
    });
    expect(requests.map(r => r.method)).toEqual(['POST', 'POST']);
    expect(requests.map(endPoint)).toEqual([
      'gallery/7/versions/1/copy',
      'gallery/7/diff-files?base=1&remote=2'
    ]);
    model.dispose();
  });

  it('deletes an entry and reloads the list', async () => {
    const { settings, requests } = fakeServer(
      { body: sampleDetail() },
      { status: 204 },
      { body: { entries: [] } }
    );
    const model = new GalleryModel({ serverSettings: settings });
    await model.select(7);

    expect(await model.remove(7)).toBe(true);

    expect(requests[1].method).toBe('DELETE');
    expect(endPoint(requests[1])).toBe('gallery/7');
    expect(model.entries).toEqual([]);
    expect(model.selected).toBeNull();
    model.dispose();
  });
});
