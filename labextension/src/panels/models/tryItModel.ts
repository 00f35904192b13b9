import { RequestModel } from '../../requestModel';
import type { ModelsClient } from './client';
import {
  FieldError,
  fieldsFromMetadata,
  IInputField,
  inferBody,
  responseText
} from './tryIt';
import type { IModelMetadata } from './types';

/**
 * The state of "Try it" for one endpoint: its metadata, the form's fields,
 * and the last answer (or refusal) shown as it is.
 */
export class TryItModel extends RequestModel {
  constructor(options: { client: ModelsClient; endpoint: string }) {
    super();
    this.client = options.client;
    this.endpoint = options.endpoint;
  }

  readonly client: ModelsClient;
  readonly endpoint: string;

  get metadata(): IModelMetadata | null {
    return this._metadata;
  }

  get fields(): ReadonlyArray<IInputField> {
    return this._fields;
  }

  /**
   * The last answer, pretty-printed JSON; `null` before the first.
   */
  get response(): string | null {
    return this._response;
  }

  /**
   * Ask for the endpoint's metadata and build the form from it.
   */
  async load(): Promise<boolean> {
    return this.run(async () => {
      this._metadata = await this.client.metadata(this.endpoint);
      this._fields = fieldsFromMetadata(this._metadata);
    });
  }

  edit(
    index: number,
    change: Partial<Pick<IInputField, 'shape' | 'data'>>
  ): void {
    this._fields = this._fields.map((f, i) =>
      i === index ? { ...f, ...change } : f
    );
    this.emitChanged();
  }

  /**
   * Send the request the form makes; the answer in `response`, or the reason
   * (a field at fault, the model's refusal) in `error`.
   */
  async send(): Promise<boolean> {
    let body;
    try {
      body = inferBody(this._fields);
    } catch (reason) {
      if (!(reason instanceof FieldError)) {
        throw reason;
      }
      this._response = null;
      this.setError(reason.message);
      this.emitChanged();
      return false;
    }
    this._response = null;
    return this.run(async () => {
      this._response = responseText(
        await this.client.infer(this.endpoint, body)
      );
    });
  }

  private _fields: IInputField[] = [];
  private _metadata: IModelMetadata | null = null;
  private _response: string | null = null;
}
