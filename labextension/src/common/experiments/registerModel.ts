import { RequestModel } from '../../requestModel';
import type { ExperimentsClient } from './client';
import { DeploymentsClient, TASK_TAG } from '../deployments';
import type { IModelVersion, IVersionSource, RegistryClient } from './registry';
import { ServeModel } from './serveModel';
import type { IFileInfo, IRun } from './types';

/**
 * The file that makes an artifact folder an MLflow model.
 */
export const MLMODEL_FILE = 'MLmodel';

/**
 * The most top-level artifact folders looked into for an `MLmodel` file.
 */
export const MAX_FOLDERS = 20;

/**
 * One model of the run the dialog offers to register.
 */
export interface IModelChoice {
  /** Stable key: `model:<logged model id>` or `folder:<artifact path>`. */
  key: string;
  /** What the person reads: the logged model's name or the folder. */
  label: string;
  /** The logged model id or the folder, shown as a hint. */
  detail: string;
  from: IVersionSource;
}

/**
 * The "Register model" dialog of a run: which of the run's models, under
 * which registered model name (a new one, or one that exists), then the
 * registration through MLflow's registry API; with "Serve it", the new
 * version is then served (`serving`).
 *
 * Methods never reject: a failure (MLflow's message) is kept in `error`,
 * the serving's in `serving.error`.
 */
export class RegisterModelModel extends RequestModel {
  constructor(options: RegisterModelModel.IOptions) {
    super();
    this.registry = options.registry;
    this.experiments = options.experiments;
    this.run_ = options.run;
    this.serving = new ServeModel({
      client:
        options.deployments ??
        new DeploymentsClient(options.registry.serverSettings),
      enabled: options.serve,
      pollMs: options.pollMs
    });
    this.serving.changed.connect(this.emitChanged, this);
    this._known = options.choices ?? null;
    this.name = options.name ?? '';
  }

  readonly registry: RegistryClient;

  readonly experiments: ExperimentsClient;

  /**
   * The "Serve it" part: the endpoint, the task type, the deployment.
   */
  readonly serving: ServeModel;

  /**
   * The run's models: its logged models, then artifact folders holding an
   * `MLmodel` file.
   */
  get choices(): IModelChoice[] {
    return this._choices;
  }

  /**
   * Names of the person's own registered models (for the datalist): a new
   * version goes to one of these, any other name makes a new model.
   */
  get existing(): string[] {
    return this._existing;
  }

  /**
   * Whether `load()` has finished (successfully or not).
   */
  get loaded(): boolean {
    return this._loaded;
  }

  /**
   * The key of the chosen model, `''` when there is none.
   */
  get choice(): string {
    return this._choice;
  }

  set choice(key: string) {
    this._choice = key;
    this._result = null;
    this.emitChanged();
  }

  /**
   * The registered model name typed or picked.
   */
  get name(): string {
    return this._name;
  }

  set name(value: string) {
    this._name = value;
    this._result = null;
    this.serving.followName(value.trim());
    this.emitChanged();
  }

  /**
   * Whether registering creates the registered model first.
   */
  get isNew(): boolean {
    const name = this._name.trim();
    return name !== '' && !this._existing.includes(name);
  }

  /**
   * Why the form cannot be sent yet, or `null` when it can.
   */
  get problem(): string | null {
    if (this._loaded && this._choices.length === 0) {
      return 'This run has no logged model: log one with mlflow.<flavor>.log_model.';
    }
    if (!this._choices.some(c => c.key === this._choice)) {
      return 'Choose the model to register.';
    }
    if (this._name.trim() === '') {
      return 'Give the registered model a name.';
    }
    return this.serving.enabled ? this.serving.problem : null;
  }

  /**
   * The version made by the last `register()`, or `null`.
   */
  get result(): IModelVersion | null {
    return this._result;
  }

  /**
   * What to show once registered: "Registered <name> version <n>".
   */
  get confirmation(): string | null {
    return this._result
      ? `Registered ${this._result.name} version ${this._result.version}`
      : null;
  }

  /**
   * Find the run's models and the registered model names.
   */
  load(): Promise<boolean> {
    return this.run(async () => {
      try {
        const [choices, registered] = await Promise.all([
          this._known ?? runModels(this.registry, this.experiments, this.run_),
          this.registry.yourModels()
        ]);
        this._known = null; // a second load looks again
        this._choices = choices;
        this._existing = registered;
        if (!this._choices.some(c => c.key === this._choice)) {
          this._choice = this._choices[0]?.key ?? '';
        }
      } finally {
        this._loaded = true;
      }
    });
  }

  /**
   * What the dialog's button does: register the chosen model; with "Serve
   * it", then serve the new version (the one registered already, when only
   * the serving failed) and follow it until ready. Resolves whether it all
   * worked.
   */
  async submit(): Promise<boolean> {
    if (!this.serving.enabled) {
      return this.register();
    }
    if (this._result === null && !(await this.register())) {
      return false;
    }
    return this.serving.serve(this._result!.name, this._result!.version);
  }

  /**
   * Register the chosen model: create the registered model when the name is
   * new, then a version of it, tagged with its task type when one is chosen
   * to serve it as. Resolves whether it worked.
   */
  register(): Promise<boolean> {
    const problem = this.problem;
    if (problem !== null) {
      return this.run(() => Promise.reject(new Error(problem)));
    }
    const name = this._name.trim();
    const chosen = this._choices.find(c => c.key === this._choice)!;
    return this.run(async () => {
      this._result = null;
      if (this.isNew) {
        await this.registry.createRegisteredModel(name);
        this._existing = [name, ...this._existing];
      }
      const task = this.serving.enabled ? this.serving.task : '';
      this._result = await this.registry.createModelVersion(
        name,
        chosen.from,
        task ? { [TASK_TAG]: task } : {}
      );
    });
  }

  dispose(): void {
    this.serving.dispose();
    super.dispose();
  }

  private readonly run_: IRun;
  private _known: IModelChoice[] | null;
  private _choices: IModelChoice[] = [];
  private _existing: string[] = [];
  private _loaded = false;
  private _choice = '';
  private _name = '';
  private _result: IModelVersion | null = null;
}

/**
 * A run's models: its logged models, then its artifact folders holding an
 * `MLmodel` file (the top and the folders directly in it).
 */
export async function runModels(
  registry: RegistryClient,
  experiments: ExperimentsClient,
  run: IRun
): Promise<IModelChoice[]> {
  const info = run.info;
  const [logged, folders] = await Promise.all([
    registry.loggedModels(info.experiment_id, info.run_id),
    modelFolders(experiments, info.run_id)
  ]);
  const base = (info.artifact_uri ?? '').replace(/\/+$/, '');
  return [
    ...logged.map(m => ({
      key: `model:${m.model_id}`,
      label: m.name,
      detail: m.model_id,
      from: {
        source: `models:/${m.model_id}`,
        runId: info.run_id,
        modelId: m.model_id
      }
    })),
    ...folders.map(path => ({
      key: `folder:${path}`,
      label: `${path || '.'}/`,
      detail: 'artifact folder',
      from: { source: path ? `${base}/${path}` : base, runId: info.run_id }
    }))
  ];
}

/**
 * Artifact paths ('' for the top) that hold an `MLmodel` file: the top, and
 * the folders directly in it.
 */
async function modelFolders(
  experiments: ExperimentsClient,
  runId: string
): Promise<string[]> {
  const top = (await experiments.listArtifacts(runId)).files ?? [];
  const found = hasModelFile(top, '') ? [''] : [];
  const folders = top.filter(f => f.is_dir).slice(0, MAX_FOLDERS);
  const listings = await Promise.all(
    folders.map(f => experiments.listArtifacts(runId, f.path))
  );
  folders.forEach((folder, i) => {
    if (hasModelFile(listings[i].files ?? [], folder.path)) {
      found.push(folder.path);
    }
  });
  return found;
}

function hasModelFile(files: IFileInfo[], folder: string): boolean {
  const path = folder ? `${folder}/${MLMODEL_FILE}` : MLMODEL_FILE;
  return files.some(f => !f.is_dir && f.path === path);
}

/**
 * A namespace for RegisterModelModel statics.
 */
export namespace RegisterModelModel {
  /**
   * Options to create a RegisterModelModel.
   */
  export interface IOptions {
    registry: RegistryClient;
    experiments: ExperimentsClient;
    run: IRun;
    /** The serving routes; default: on the registry's server. */
    deployments?: DeploymentsClient;
    /** Whether "Serve it" starts checked. */
    serve?: boolean;
    /** The registered model name offered first. */
    name?: string;
    /** The run's models, when found already (`runModels`). */
    choices?: IModelChoice[];
    /** How often a starting deployment is asked again, in ms. */
    pollMs?: number;
  }
}
