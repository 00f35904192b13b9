import { runDatasets } from '../lineage';
import type { IDatasetInput } from '../../../common/experiments/types';
import { sampleRun } from './sample';

function input(
  name: string,
  digest: string,
  tags: Record<string, string> = {}
): IDatasetInput {
  return {
    tags: Object.entries(tags).map(([key, value]) => ({ key, value })),
    dataset: { name, digest, source_type: 'http', source: '{}' }
  };
}

describe('runDatasets', () => {
  it('joins dataset inputs with the version their labworks tag names', () => {
    const run = sampleRun('r1', {
      tags: {
        'labworks.dataset.alice/iris': '3',
        'labworks.dataset.bob/labels': '1',
        'labworks.user': 'alice'
      }
    });
    run.inputs = {
      dataset_inputs: [
        input('alice/iris', 'aaaa', { 'mlflow.data.context': 'training' }),
        input('pandas-frame', 'ffff')
      ]
    };
    expect(runDatasets(run)).toEqual([
      { name: 'alice/iris', digest: 'aaaa', context: 'training', version: '3' },
      // Read before the run started: known from its tag only.
      { name: 'bob/labels', version: '1' },
      {
        name: 'pandas-frame',
        digest: 'ffff',
        context: undefined,
        version: undefined
      }
    ]);
  });

  it('takes each version from its input when the run read several', () => {
    const run = sampleRun('r2', {
      tags: { 'labworks.dataset.alice/iris': '2' }
    });
    run.inputs = {
      dataset_inputs: [
        input('alice/iris', 'bbbb', { 'labworks.dataset.version': '2' }),
        input('alice/iris', 'aaaa', { 'labworks.dataset.version': '1' }),
        // Logged by other code, with no version of its own: the run's tag
        // names the last version read, not necessarily this one.
        input('alice/iris', 'cccc')
      ]
    };
    const found = runDatasets(run);
    expect(found.map(d => [d.digest, d.version])).toEqual([
      ['aaaa', '1'],
      ['bbbb', '2'],
      ['cccc', undefined]
    ]);
  });

  it('is empty for a run that read nothing', () => {
    expect(runDatasets(sampleRun('r3'))).toEqual([]);
  });
});
