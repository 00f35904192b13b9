import type { IDeployment } from '../../deployments';
import type { IRun, RunStatus } from '../types';

/**
 * A run as MLflow's runs/search sends it (the runs table's page: with the
 * asked keys only).
 */
export function sampleRun(
  id: string,
  fields: {
    name?: string;
    status?: RunStatus;
    params?: Record<string, string>;
    metrics?: Record<string, number | string>;
    tags?: Record<string, string>;
  } = {}
): IRun {
  const pairs = (record: Record<string, string> = {}) =>
    Object.entries(record).map(([key, value]) => ({ key, value }));
  return {
    info: {
      run_id: id,
      run_name: fields.name ?? `run-${id}`,
      experiment_id: '7',
      user_id: 'alice',
      status: fields.status ?? 'FINISHED',
      start_time: 1_700_000_000_000,
      end_time: 1_700_000_060_000,
      artifact_uri: `mlflow-artifacts:/7/${id}/artifacts`,
      lifecycle_stage: 'active'
    },
    data: {
      params: pairs(fields.params),
      metrics: Object.entries(fields.metrics ?? {}).map(([key, value]) => ({
        key,
        value,
        step: 4,
        timestamp: 1_700_000_050_000
      })),
      tags: pairs(fields.tags)
    }
  };
}

/**
 * A deployment as `/labworks/deployments/<name>` answers it: starting.
 */
export function deployment(fields: Partial<IDeployment> = {}): IDeployment {
  return {
    name: 'churn',
    owner: 'alice',
    visibility: 'private',
    model: 'Churn',
    version: '3',
    canary_version: null,
    canary_percent: 0,
    task: 'classification',
    status: 'starting',
    reason: '',
    url: 'http://hub/services/labworks/models/v2/models/churn/infer',
    created_at: '2026-12-05T10:00:00Z',
    updated_at: '2026-12-05T10:00:00Z',
    ...fields
  };
}
