import { nullTranslator } from '@jupyterlab/translation';
import { act, fireEvent, render, screen, within } from '@testing-library/react';
import React from 'react';

import { fakeServer } from '../../../__tests__/fakeServer';
import { ExperimentsClient } from '../../../common/experiments/client';
import {
  ARTIFACTS_DRIVE,
  ArtifactDrive,
  artifactDrivePath,
  parseArtifactPath,
  toBase64
} from '../drive';
import { RunModel } from '../run';
import { formatBytes } from '../../../common/format';
import { IRunActions, OPEN_LIMIT_BYTES, RunView } from '../RunView';
import { sampleRun, where } from './sample';

const trans = nullTranslator.load('labworks');

const run = sampleRun('a1', {
  name: 'base',
  params: { lr: '0.1' },
  metrics: { acc: 0.71 },
  tags: {
    'labworks.job.id': '4f0c2a9e81d3',
    'labworks.dataset.alice/iris': '2',
    'mlflow.user': 'alice'
  }
});
run.inputs = {
  dataset_inputs: [
    {
      tags: [{ key: 'mlflow.data.context', value: 'training' }],
      dataset: {
        name: 'alice/iris',
        digest: '5d41402abc4b2a76b9719d911017c592'
      }
    }
  ]
};

function actions(): jest.Mocked<Required<IRunActions>> {
  return {
    openArtifact: jest.fn((runId: string, path: string) => Promise.resolve()),
    canOpen: jest.fn((path: string) => !path.endsWith('.bin')),
    downloadArtifact: jest.fn((runId: string, path: string) =>
      Promise.resolve()
    ),
    openJobOutput: jest.fn((jobId: string) => Promise.resolve()),
    openTensorBoard: jest.fn((runId: string) => Promise.resolve()),
    openModels: jest.fn()
  };
}

describe('RunView', () => {
  it('shows the run, its artifacts, and links to the job that made it', async () => {
    const server = fakeServer(
      { body: { run } },
      {
        body: {
          files: [
            { path: 'notes.txt', is_dir: false, file_size: 17 },
            { path: 'model', is_dir: true },
            { path: 'tensorboard', is_dir: true },
            { path: 'big.csv', is_dir: false, file_size: OPEN_LIMIT_BYTES + 1 }
          ]
        }
      },
      { body: { files: [{ path: 'model/weights.bin', file_size: 16384 }] } }
    );
    const model = new RunModel({
      client: new ExperimentsClient(server.settings),
      runId: 'a1'
    });
    const act_ = actions();
    const view = () => <RunView model={model} actions={act_} trans={trans} />;
    const { rerender } = render(view());
    expect(screen.getByText('Loading the run…')).toBeTruthy();
    await act(async () => {
      await new Promise(resolve => setTimeout(resolve, 0));
    });
    rerender(view());
    expect(where(server.requests[0]).query.get('run_id')).toBe('a1');
    expect(where(server.requests[1]).path).toBe(
      'mlflow/api/2.0/mlflow/artifacts/list'
    );
    const page = screen.getByTestId('labworks-run-page');
    expect(page.querySelector('.jp-Labworks-runTitle')!.textContent).toBe(
      'base'
    );
    expect(page.textContent).toContain('lr0.1');
    expect(screen.getByTestId('labworks-run-metrics').textContent).toContain(
      'acc0.71'
    );
    // MLflow's own tags are hidden until asked for.
    expect(page.textContent).not.toContain('mlflow.user');
    fireEvent.click(screen.getByLabelText('Show MLflow’s own tags (mlflow.*)'));
    rerender(view());
    expect(page.textContent).toContain('mlflow.user');

    // The dataset version the run read, with MLflow's digest.
    expect(
      within(screen.getByTestId('labworks-run-datasets'))
        .getAllByRole('row')
        .map(r => r.textContent)
    ).toEqual([
      'DatasetVersionDigestUsed for',
      'alice/iris25d41402abc4b2a76b9719d911017c592training'
    ]);

    fireEvent.click(screen.getByRole('button', { name: 'Open job output' }));
    expect(act_.openJobOutput).toHaveBeenCalledWith('4f0c2a9e81d3');
    fireEvent.click(
      screen.getByRole('button', { name: 'Open in TensorBoard' })
    );
    expect(act_.openTensorBoard).toHaveBeenCalledWith('a1');

    const artifacts = screen.getByTestId('labworks-artifacts');
    // Folders first; the large CSV can only be downloaded.
    expect(
      within(artifacts)
        .getAllByRole('treeitem')
        .map(i => i.textContent)
    ).toEqual([
      '▸ model/',
      '▸ tensorboard/',
      'big.csv20.0 MiBDownload',
      'notes.txt17 BDownload'
    ]);
    expect(
      within(artifacts).queryByRole('button', { name: 'big.csv' })
    ).toBeNull();
    fireEvent.click(
      within(artifacts).getByRole('button', { name: 'notes.txt' })
    );
    expect(act_.openArtifact).toHaveBeenCalledWith('a1', 'notes.txt');
    await act(async () => {
      fireEvent.click(within(artifacts).getByRole('button', { name: /model/ }));
    });
    rerender(view());
    expect(where(server.requests[2]).query.get('path')).toBe('model');
    expect(artifacts.textContent).toContain('weights.bin16.0 KiB');
    fireEvent.click(within(artifacts).getByTitle('Download model/weights.bin'));
    expect(act_.downloadArtifact).toHaveBeenCalledWith(
      'a1',
      'model/weights.bin'
    );
    model.dispose();
  });

  it('says why a run cannot be shown', async () => {
    const denied = {
      status: 403,
      body: {
        error: 'PERMISSION_DENIED',
        message: 'permission denied: not yours'
      }
    };
    const server = fakeServer(denied, denied);
    const model = new RunModel({
      client: new ExperimentsClient(server.settings),
      runId: 'zz'
    });
    await model.refresh();
    const { openTensorBoard, ...withoutTensorBoard } = actions();
    expect(openTensorBoard).toBeDefined();
    render(
      <RunView model={model} actions={withoutTensorBoard} trans={trans} />
    );
    expect(
      screen.queryByRole('button', { name: 'Open in TensorBoard' })
    ).toBeNull();
    expect(screen.getByRole('alert').textContent).toBe(
      'permission denied: not yours'
    );
    model.dispose();
  });

  it('offers Serve beside Register model: the same dialog, serving preset', async () => {
    const server = fakeServer(
      { body: { run } },
      { body: { files: [] } },
      { body: {} }, // the dialog: logged models,
      { body: {} }, // the artifacts,
      { body: {} }, // the person's models
      { body: {} },
      { body: {} },
      { body: {} }
    );
    const model = new RunModel({
      client: new ExperimentsClient(server.settings),
      runId: 'a1'
    });
    const view = () => (
      <RunView model={model} actions={actions()} trans={trans} />
    );
    const { rerender } = render(view());
    const settle = () =>
      act(async () => {
        await new Promise(resolve => setTimeout(resolve, 0));
      });
    await settle();
    rerender(view());
    fireEvent.click(screen.getByRole('button', { name: 'Serve' }));
    rerender(view());
    screen.getByRole('dialog', { name: 'Register and serve' });
    await settle();
    expect(
      (screen.getByRole('checkbox', { name: 'Serve it' }) as HTMLInputElement)
        .checked
    ).toBe(true);
    fireEvent.click(screen.getByRole('button', { name: 'Register model' }));
    rerender(view());
    screen.getByRole('dialog', { name: 'Register model' });
    await settle();
    expect(
      (screen.getByRole('checkbox', { name: 'Serve it' }) as HTMLInputElement)
        .checked
    ).toBe(false);
    model.dispose();
  });

  it('formats sizes', () => {
    expect(formatBytes(17)).toBe('17 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(undefined)).toBe('');
  });
});

describe('ArtifactDrive', () => {
  it('names artifacts by run and path', () => {
    expect(artifactDrivePath('a1', 'plots/x.png')).toBe(
      `${ARTIFACTS_DRIVE}:a1/plots/x.png`
    );
    expect(parseArtifactPath('a1/plots/x.png')).toEqual({
      runId: 'a1',
      path: 'plots/x.png'
    });
    expect(parseArtifactPath('../x')).toBeNull();
  });

  it('serves text, images and notebooks read-only', async () => {
    // Bytes the fake server sends as they are (it writes strings as UTF-8).
    const png = 'PNG\r\n\u001a\n\u0000';
    const notebook = {
      cells: [],
      metadata: {},
      nbformat: 4,
      nbformat_minor: 5
    };
    const server = fakeServer(
      { body: 'hello' },
      { body: png },
      { body: notebook }
    );
    const drive = new ArtifactDrive({
      client: new ExperimentsClient(server.settings),
      readOnlyMessage: 'read-only',
      fileFormat: path =>
        path.endsWith('.png')
          ? { format: 'base64', mimetype: 'image/png' }
          : path.endsWith('.ipynb')
            ? { format: 'json', mimetype: 'application/x-ipynb+json' }
            : { format: 'text', mimetype: 'text/plain' }
    });
    const text = await drive.get('a1/notes.txt');
    expect(where(server.requests[0]).path).toBe('experiments/runs/a1/artifact');
    expect(where(server.requests[0]).query.get('path')).toBe('notes.txt');
    expect(text).toMatchObject({
      name: 'notes.txt',
      type: 'file',
      format: 'text',
      content: 'hello',
      writable: false
    });
    const image = await drive.get('a1/plots/x.png');
    expect(image.format).toBe('base64');
    expect(image.mimetype).toBe('image/png');
    expect(image.content).toBe(btoa(png));
    const nb = await drive.get('a1/analysis.ipynb');
    expect(nb.type).toBe('notebook');
    expect(nb.content).toEqual(notebook);
    const bare = await drive.get('a1/notes.txt', { content: false });
    expect(bare.content).toBeNull();
    expect(server.requests).toHaveLength(3); // no download without content
    await expect(drive.save()).rejects.toThrow('read-only');
    drive.dispose();
  });

  it('encodes large files to base64 in pieces', async () => {
    const bytes = new Uint8Array(100_000).map((_, i) => i % 256);
    const blob = { arrayBuffer: async () => bytes.buffer } as unknown as Blob;
    const encoded = await toBase64(blob);
    expect(atob(encoded).length).toBe(100_000);
    expect(atob(encoded).charCodeAt(99_999)).toBe(99_999 % 256);
  });
});
