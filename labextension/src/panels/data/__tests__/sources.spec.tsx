import { nullTranslator } from '@jupyterlab/translation';
import { Widget } from '@lumino/widgets';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import React, { useEffect, useState } from 'react';

import { fakeServer, IFakeAnswer } from '../../../__tests__/fakeServer';
import { insertCodeCell } from '../insertCell';
import { DataModel } from '../model';
import { DataPanel } from '../Panel';
import { ISource, sourceSnippet } from '../sourcesClient';
import { SourcesModel } from '../sourcesModel';
import { ISourcesActions, SourcesView } from '../SourcesView';

const trans = nullTranslator.load('labworks');

function sampleSource(name: string, patch: Partial<ISource> = {}): ISource {
  return {
    name,
    kind: 's3',
    owner: 'bob',
    description: `the ${name} data`,
    tags: ['raw', 'daily'],
    config: { bucket: 'lake' },
    has_credentials: true,
    access: 'read',
    created_at: '2026-12-01T10:00:00Z',
    updated_at: '2026-12-01T10:00:00Z',
    ...patch
  };
}

const REFUSED: IFakeAnswer = {
  status: 403,
  body: {
    error: 'forbidden',
    message:
      'you may not read source vault (owner: carol); ask for access: labworks sources request vault'
  }
};

function actions(): jest.Mocked<ISourcesActions> {
  return { copy: jest.fn(), insert: jest.fn((code: string) => code !== '') };
}

/**
 * The view, rendered again whenever the model changes (as the panel does).
 */
function Live(props: {
  model: SourcesModel;
  actions: ISourcesActions;
}): JSX.Element {
  const [, setTick] = useState(0);
  useEffect(() => {
    const bump = () => setTick(t => t + 1);
    props.model.changed.connect(bump);
    return () => {
      props.model.changed.disconnect(bump);
    };
  }, [props.model]);
  return (
    <SourcesView model={props.model} actions={props.actions} trans={trans} />
  );
}

/**
 * A model loaded with `sources` and `requests`, then the rest of `answers`.
 */
async function loaded(
  sources: ISource[],
  answers: IFakeAnswer[] = [],
  requests: unknown[] = [],
  admin = false
) {
  const server = fakeServer(
    { body: { sources } },
    { body: { requests } },
    ...answers
  );
  const model = new SourcesModel({
    serverSettings: server.settings,
    isAdmin: () => Promise.resolve(admin)
  });
  await model.refresh();
  return { model, requests: server.requests };
}

/**
 * The route and query of a request below `/labworks/`, without the cache
 * buster that ServerConnection appends.
 */
function path(request: Request): string {
  const url = new URL(request.url);
  const search = url.search.replace(/[?&]\d+$/, '');
  return decodeURIComponent(url.pathname.split('/labworks/')[1]) + search;
}

describe('SourcesView', () => {
  it('lists every source with its kind, owner, description, tags and my access', async () => {
    const { model } = await loaded([
      sampleSource('lake'),
      sampleSource('warehouse', {
        kind: 'postgres',
        owner: 'alice',
        access: 'owner',
        tags: []
      }),
      sampleSource('vault', { kind: 'folder', access: 'none', owner: 'carol' })
    ]);
    render(<Live model={model} actions={actions()} />);

    const lake = screen.getByTestId('labworks-source-lake');
    expect(lake.textContent).toContain('S3lake');
    expect(lake.textContent).toContain('owner bob · read');
    expect(lake.textContent).toContain('the lake data');
    expect(lake.textContent).toContain('rawdaily');
    expect(
      screen.getByTestId('labworks-source-warehouse').textContent
    ).toContain('PostgreSQLwarehouseowner alice · yours');
    expect(screen.getByTestId('labworks-source-vault').textContent).toContain(
      'folder'
    );
    expect(screen.getByTestId('labworks-source-vault').textContent).toContain(
      'no access'
    );
    model.dispose();
  });

  it('browses prefixes with a breadcrumb and previews a CSV with its columns and rows', async () => {
    const { model, requests } = await loaded(
      [sampleSource('lake')],
      [
        {
          body: {
            entries: [
              {
                path: 'raw/',
                kind: 'dir',
                size: null,
                modified: null,
                rows: null
              }
            ],
            truncated: false
          }
        },
        {
          body: {
            entries: [
              {
                path: 'raw/orders 1.csv',
                kind: 'file',
                size: 2048,
                modified: '2026-12-02T08:00:00Z',
                rows: null
              }
            ],
            truncated: true
          }
        },
        {
          body: {
            path: 'raw/orders 1.csv',
            format: 'csv',
            columns: [
              { name: 'id', type: 'int64' },
              { name: 'city', type: 'object' }
            ],
            rows: [
              [1, 'Oslo'],
              [2, null]
            ],
            row_count: null,
            truncated: true,
            text: null,
            image: null,
            size: 2048
          }
        },
        { body: { entries: [], truncated: false } }
      ]
    );
    const act_ = actions();
    render(<Live model={model} actions={act_} />);

    fireEvent.click(screen.getByTestId('labworks-source-lake'));
    fireEvent.click(await screen.findByTestId('labworks-source-entry-raw/'));
    const file = await screen.findByTestId(
      'labworks-source-entry-raw/orders 1.csv'
    );
    expect(file.textContent).toContain('orders 1.csv');
    expect(file.textContent).toContain('2.0 KiB');
    expect(
      screen.getByText('Only the first 1,000 entries are shown.')
    ).toBeTruthy();
    expect(screen.getByTestId('labworks-source-crumb-raw/').textContent).toBe(
      'raw'
    );

    fireEvent.click(file);
    const preview = await screen.findByTestId('labworks-source-preview');
    const headers = within(preview)
      .getAllByRole('columnheader')
      .map(th => th.textContent);
    expect(headers).toEqual(['idint64', 'cityobject']);
    const cells = within(preview)
      .getAllByRole('row')
      .slice(1)
      .map(tr => tr.textContent);
    expect(cells).toEqual(['1Oslo', '2']);
    expect(screen.getByTestId('labworks-source-rowcount').textContent).toBe(
      'csv · 2.0 KiB · first 2 shown'
    );

    fireEvent.click(screen.getByTestId('labworks-source-insert'));
    expect(act_.insert).toHaveBeenCalledWith(
      'from labworks import sources\nimport pandas as pd\ndf = pd.read_csv(sources.open("lake/raw/orders 1.csv"))'
    );
    expect(screen.getByTestId('labworks-source-status').textContent).toBe(
      'Inserted in the notebook'
    );
    fireEvent.click(screen.getByTestId('labworks-source-copy-path'));
    expect(act_.copy).toHaveBeenCalledWith('lake/raw/orders 1.csv');

    fireEvent.click(screen.getByTestId('labworks-source-crumb-root'));
    await waitFor(() => expect(model.trail).toEqual([]));
    expect(requests.slice(2).map(path)).toEqual([
      'sources/lake/list?prefix=',
      'sources/lake/list?prefix=raw%2F',
      'sources/lake/preview?path=raw%2Forders+1.csv&limit=50',
      'sources/lake/list?prefix='
    ]);
    model.dispose();
  });

  it('previews a table with its row count, an image and a text', async () => {
    const { model } = await loaded(
      [sampleSource('warehouse', { kind: 'postgres' })],
      [
        {
          body: {
            entries: [
              {
                path: 'sales',
                kind: 'schema',
                size: null,
                modified: null,
                rows: null
              },
              {
                path: 'logo.png',
                kind: 'file',
                size: 10,
                modified: null,
                rows: null
              }
            ],
            truncated: false
          }
        },
        {
          body: {
            path: 'logo.png',
            format: 'image',
            columns: [],
            rows: [],
            row_count: null,
            truncated: false,
            text: null,
            image: 'data:image/png;base64,iVBORw0KGgo=',
            size: 10
          }
        },
        {
          body: {
            entries: [
              {
                path: 'sales.orders',
                kind: 'table',
                size: null,
                modified: null,
                rows: 1200
              }
            ],
            truncated: false
          }
        },
        {
          body: {
            path: 'sales.orders',
            format: 'table',
            columns: [{ name: 'id', type: 'integer' }],
            rows: [[1]],
            row_count: 1200,
            truncated: true,
            text: null,
            image: null,
            size: null
          }
        }
      ]
    );
    const act_ = actions();
    render(<Live model={model} actions={act_} />);
    fireEvent.click(screen.getByTestId('labworks-source-warehouse'));
    fireEvent.click(
      await screen.findByTestId('labworks-source-entry-logo.png')
    );
    const image = (await screen.findByRole('img')) as HTMLImageElement;
    expect(image.src).toBe('data:image/png;base64,iVBORw0KGgo=');

    fireEvent.click(screen.getByTestId('labworks-source-entry-sales'));
    const table = await screen.findByTestId(
      'labworks-source-entry-sales.orders'
    );
    expect(table.textContent).toContain('~1200 rows');
    fireEvent.click(table);
    await waitFor(() =>
      expect(screen.getByTestId('labworks-source-rowcount').textContent).toBe(
        'table · 1200 rows · first 1 shown'
      )
    );
    fireEvent.click(screen.getByTestId('labworks-source-insert'));
    expect(act_.insert).toHaveBeenCalledWith(
      'from labworks import sources\ndf = sources.read_table("warehouse", "sales.orders", limit=1000)'
    );
    model.dispose();
  });

  it('shows the platform’s 403, which names the owner', async () => {
    const { model } = await loaded([sampleSource('vault')], [REFUSED]);
    render(<Live model={model} actions={actions()} />);
    fireEvent.click(screen.getByTestId('labworks-source-vault'));
    const alert = await screen.findByTestId('labworks-sources-error');
    expect(alert.textContent).toContain('owner: carol');
    expect(alert.textContent).toContain('labworks sources request vault');
    model.dispose();
  });

  it('asks the owner for access with a reason and read or write', async () => {
    const request = {
      id: 3,
      source: 'vault',
      user: 'alice',
      access: 'write',
      reason: 'training data',
      status: 'pending',
      created_at: '2026-12-05T10:00:00Z'
    };
    const { model, requests } = await loaded(
      [sampleSource('vault', { access: 'none', owner: 'carol' })],
      [{ status: 201, body: request }]
    );
    render(<Live model={model} actions={actions()} />);
    fireEvent.click(screen.getByTestId('labworks-source-vault'));
    expect(requests).toHaveLength(2); // nothing is listed without access
    fireEvent.click(screen.getByTestId('labworks-source-request'));
    const send = screen.getByTestId('labworks-source-request-send');
    expect((send as HTMLButtonElement).disabled).toBe(true);
    fireEvent.change(screen.getByTestId('labworks-source-request-reason'), {
      target: { value: 'training data' }
    });
    fireEvent.change(screen.getByTestId('labworks-source-request-access'), {
      target: { value: 'write' }
    });
    fireEvent.click(send);

    const pending = await screen.findByTestId('labworks-source-pending');
    expect(pending.textContent).toContain('You asked carol for write access');
    expect(requests[2].method).toBe('POST');
    expect(path(requests[2])).toBe('sources/vault/requests');
    expect(await requests[2].json()).toEqual({
      reason: 'training data',
      access: 'write'
    });
    expect(screen.getByTestId('labworks-source-vault').textContent).toContain(
      'access requested'
    );
    model.dispose();
  });

  it('lets the owner grant a request, add and remove grants, and see the usage', async () => {
    const grant = {
      principal: 'group:ml',
      access: 'read',
      granted_by: 'alice',
      granted_at: '2026-12-05T10:00:00Z'
    };
    const pending = {
      id: 9,
      source: 'lake',
      user: 'dan',
      access: 'read',
      reason: 'churn model',
      status: 'pending',
      created_at: '2026-12-05T10:00:00Z'
    };
    const audit = {
      entries: [
        {
          at: '2026-12-05T11:00:00Z',
          user: 'eve',
          action: 'read',
          object: 'raw/x.csv',
          bytes: null,
          rows: null,
          allowed: false,
          reason: 'no grant',
          origin: 'workspace:eve/'
        }
      ],
      by_user: [{ user: 'eve', reads: 0, bytes: 0, rows: 0, refused: 1 }],
      by_object: [{ object: 'raw/x.csv', reads: 0, bytes: 0, rows: 0 }]
    };
    const danGrant = { ...grant, principal: 'user:dan' };
    const { model, requests } = await loaded(
      [sampleSource('lake', { access: 'owner', owner: 'alice' })],
      [
        { body: { entries: [], truncated: false } },
        { body: { grants: [grant] } },
        { body: audit },
        // Grant dan's request.
        { body: danGrant },
        { body: { grants: [grant, danGrant] } },
        { body: { requests: [{ ...pending, status: 'granted' }] } },
        // Grant a group write access.
        { body: { ...grant, principal: 'group:ops', access: 'write' } },
        { body: { grants: [grant, danGrant] } },
        { body: { requests: [] } },
        // Remove the ml group.
        { status: 204 },
        { body: { grants: [danGrant] } },
        { body: { requests: [] } }
      ],
      [pending]
    );
    render(<Live model={model} actions={actions()} />);
    fireEvent.click(screen.getByTestId('labworks-source-lake'));
    await waitFor(() => expect(model.busy).toBe(false));
    fireEvent.click(screen.getByTestId('labworks-source-manage'));
    await screen.findByTestId('labworks-source-grant-group:ml');
    expect(screen.getByTestId('labworks-source-usage').textContent).toContain(
      'refused: no grant'
    );
    expect(
      screen.getByTestId('labworks-source-request-dan').textContent
    ).toContain('dan asks for read — churn model');

    fireEvent.click(screen.getByTestId('labworks-source-request-grant-dan'));
    await screen.findByTestId('labworks-source-grant-user:dan');
    expect(screen.queryByTestId('labworks-source-request-dan')).toBeNull();

    fireEvent.change(screen.getByTestId('labworks-source-grant-kind'), {
      target: { value: 'group' }
    });
    fireEvent.change(screen.getByTestId('labworks-source-grant-name'), {
      target: { value: 'ops' }
    });
    fireEvent.change(screen.getByTestId('labworks-source-grant-access'), {
      target: { value: 'write' }
    });
    fireEvent.click(screen.getByTestId('labworks-source-grant-add'));
    await waitFor(() =>
      expect(
        (screen.getByTestId('labworks-source-grant-name') as HTMLInputElement)
          .value
      ).toBe('')
    );

    fireEvent.click(
      screen.getByTestId('labworks-source-grant-remove-group:ml')
    );
    await waitFor(() =>
      expect(screen.queryByTestId('labworks-source-grant-group:ml')).toBeNull()
    );

    const sent = requests.slice(3).map(r => `${r.method} ${path(r)}`);
    expect(sent).toEqual([
      'GET sources/lake/grants',
      'GET sources/lake/audit',
      'PUT sources/lake/grants',
      'GET sources/lake/grants',
      'GET sources/requests',
      'PUT sources/lake/grants',
      'GET sources/lake/grants',
      'GET sources/requests',
      'DELETE sources/lake/grants/group:ml',
      'GET sources/lake/grants',
      'GET sources/requests'
    ]);
    expect(await requests[5].json()).toEqual({
      principal: 'user:dan',
      access: 'read'
    });
    expect(await requests[8].json()).toEqual({
      principal: 'group:ops',
      access: 'write'
    });
    model.dispose();
  });
});

describe('sourceSnippet', () => {
  it('reads each format the way pandas or the SDK does', () => {
    const file = (p: string) => ({ path: p, kind: 'file' as const });
    expect(sourceSnippet('raw', file('a/x.csv'))).toBe(
      'from labworks import sources\nimport pandas as pd\ndf = pd.read_csv(sources.open("raw/a/x.csv"))'
    );
    expect(sourceSnippet('raw', file('a/x.parquet'))).toBe(
      'from labworks import sources\nimport pandas as pd\ndf = pd.read_parquet("labworks://raw/a/x.parquet")'
    );
    expect(sourceSnippet('raw', file('x.jsonl'))).toBe(
      'from labworks import sources\nimport pandas as pd\ndf = pd.read_json(sources.open("raw/x.jsonl"), lines=True)'
    );
    // The preview's format wins over the extension.
    expect(sourceSnippet('raw', file('export'), 'parquet')).toContain(
      'pd.read_parquet("labworks://raw/export")'
    );
    expect(sourceSnippet('raw', file('notes "v2".txt'))).toBe(
      'from labworks import sources\nwith sources.open("raw/notes \\"v2\\".txt") as f:\n    data = f.read()'
    );
    expect(sourceSnippet('db', { path: 'sales/orders', kind: 'table' })).toBe(
      'from labworks import sources\ndf = sources.read_table("db", "sales.orders", limit=1000)'
    );
  });
});

describe('insertCodeCell', () => {
  function notebookWidget(path: string, cells: unknown[]) {
    const widget = new Widget();
    widget.addClass('jp-NotebookPanel');
    const content = {
      activeCellIndex: 0,
      model: {
        sharedModel: {
          insertCell: (index: number, cell: unknown) =>
            cells.splice(index, 0, cell)
        }
      }
    };
    Object.assign(widget, { context: { path }, content });
    return { widget, content };
  }

  it('inserts a code cell below the active one and activates it', () => {
    const cells: unknown[] = ['first', 'second'];
    const { widget, content } = notebookWidget('a/b.ipynb', cells);
    expect(insertCodeCell(widget, 'print(1)')).toBe(true);
    expect(cells).toEqual([
      'first',
      { cell_type: 'code', source: 'print(1)' },
      'second'
    ]);
    expect(content.activeCellIndex).toBe(1);
  });

  it('refuses anything that is not a notebook', () => {
    expect(insertCodeCell(null, 'x')).toBe(false);
    expect(insertCodeCell(new Widget(), 'x')).toBe(false);
  });
});

describe('DataPanel with sources', () => {
  it('loads the sources only when their section is first shown', async () => {
    const { settings, requests } = fakeServer(
      { body: { datasets: [] } },
      { body: { sources: [sampleSource('lake')] } },
      { body: { requests: [] } }
    );
    const model = new DataModel({ serverSettings: settings });
    const sources = new SourcesModel({ serverSettings: settings });
    const panel = new DataPanel({
      model,
      actions: { copy: jest.fn(), share: jest.fn() },
      sources: { model: sources, actions: actions() }
    });
    await act(async () => {
      Widget.attach(panel, document.body);
    });
    await waitFor(() => expect(model.loaded).toBe(true));
    expect(requests).toHaveLength(1);
    await act(async () => {
      fireEvent.click(await screen.findByTestId('labworks-data-tab-sources'));
    });
    await screen.findByTestId('labworks-source-lake');
    expect(panel.section).toBe('sources');
    expect(requests.map(path)).toEqual([
      'datasets',
      'sources',
      'sources/requests'
    ]);
    await act(async () => panel.dispose());
    model.dispose();
    sources.dispose();
  });
});
