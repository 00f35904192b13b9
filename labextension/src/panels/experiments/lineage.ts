import type { IRun } from '../../common/experiments/types';

/**
 * The tag `labworks.data` sets for each dataset version a run read:
 * `labworks.dataset.<owner>/<name>` = the version number.
 */
export const DATASET_TAG_PREFIX = 'labworks.dataset.';

/**
 * The tag `labworks.data` gives each dataset input: the version number.
 */
export const INPUT_VERSION_TAG = 'labworks.dataset.version';

/**
 * The tag MLflow gives a dataset input for what it was used for.
 */
const CONTEXT_TAG = 'mlflow.data.context';

/**
 * A dataset a run read, shown on the run page.
 */
export interface IRunDataset {
  /** The dataset's name: `<owner>/<name>` for a Labworks dataset. */
  name: string;
  /** The Labworks version number, when the run's tags name one. */
  version?: string;
  /** MLflow's digest of the dataset (absent: known from a tag only). */
  digest?: string;
  /** What the run used it for (`training`, ...). */
  context?: string;
}

/**
 * The datasets a run read: its MLflow dataset inputs, with the Labworks
 * version from the input's own tag (or else the run's `labworks.dataset.*`
 * tag), and the datasets those run tags name that have no input (read
 * before the run started, through a plain `mlflow.start_run()`). Sorted by
 * name, then digest.
 */
export function runDatasets(run: IRun): IRunDataset[] {
  const versions = new Map<string, string>();
  for (const tag of run.data.tags ?? []) {
    if (tag.key.startsWith(DATASET_TAG_PREFIX)) {
      versions.set(tag.key.slice(DATASET_TAG_PREFIX.length), tag.value);
    }
  }
  const inputs = run.inputs?.dataset_inputs ?? [];
  const count = new Map<string, number>();
  for (const input of inputs) {
    const name = input.dataset.name;
    count.set(name, (count.get(name) ?? 0) + 1);
  }
  const found: IRunDataset[] = inputs.map(input => {
    const tag = (key: string) => input.tags?.find(t => t.key === key)?.value;
    const name = input.dataset.name;
    return {
      name,
      digest: input.dataset.digest,
      context: tag(CONTEXT_TAG),
      // The run's tag holds the last version read: it names an input only
      // when the run read one version of that dataset.
      version:
        tag(INPUT_VERSION_TAG) ??
        (count.get(name) === 1 ? versions.get(name) : undefined)
    };
  });
  for (const [name, version] of versions) {
    if (!count.has(name)) {
      found.push({ name, version });
    }
  }
  return found.sort(
    (a, b) =>
      a.name.localeCompare(b.name) ||
      (a.digest ?? '').localeCompare(b.digest ?? '')
  );
}
