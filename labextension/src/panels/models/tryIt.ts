import type { IInferInput, IInferRequest, IModelMetadata } from './types';

/**
 * "Try it": the form built from an endpoint's metadata, one field per input,
 * and the inference request made from it. No Jupyter imports: tested alone.
 */

/**
 * One input of the form, as the person edits it: the shape and the data as
 * JSON text.
 */
export interface IInputField {
  name: string;
  datatype: string;
  /** A JSON array of sizes, e.g. `[1, 4]`. */
  shape: string;
  /** A JSON array of the values (nested arrays are flattened). */
  data: string;
}

/**
 * The field offered when the metadata names no input.
 */
export const FALLBACK_INPUT = {
  name: 'input-0',
  datatype: 'FP64',
  shape: [1, 1]
};

/**
 * The most values a field is pre-filled with (zeros of its shape).
 */
const PREFILL_LIMIT = 64;

const NUMERIC = /^(BOOL|U?INT(8|16|32|64)|FP(16|32|64)|BF16)$/;

/**
 * The form's fields for an endpoint's metadata: its inputs with their shapes
 * (-1, any size, made 1) and, for a small numeric input, zeros to edit.
 */
export function fieldsFromMetadata(metadata: IModelMetadata): IInputField[] {
  const inputs = metadata.inputs?.length ? metadata.inputs : [FALLBACK_INPUT];
  return inputs.map(input => {
    const shape = (input.shape ?? [1]).map(size => (size < 0 ? 1 : size));
    const count = shape.reduce((a, b) => a * b, 1);
    const prefill =
      NUMERIC.test(input.datatype) && count <= PREFILL_LIMIT
        ? JSON.stringify(
            new Array(count).fill(input.datatype === 'BOOL' ? false : 0)
          )
        : '';
    return {
      name: input.name,
      datatype: input.datatype,
      shape: JSON.stringify(shape),
      data: prefill
    };
  });
}

/**
 * A field the request cannot be made from: which one, and why.
 */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    message: string
  ) {
    super(message);
    this.name = 'FieldError';
  }
}

/**
 * The inference request (`{"inputs": [...]}`) the fields make.
 *
 * @throws {FieldError} naming the input whose shape or data is not valid
 * JSON, not an array, or does not match (as many values as the shape says)
 */
export function inferBody(fields: ReadonlyArray<IInputField>): IInferRequest {
  return { inputs: fields.map(inferInput) };
}

function inferInput(field: IInputField): IInferInput {
  const shape = parse(field, 'shape', field.shape);
  if (
    !Array.isArray(shape) ||
    shape.length === 0 ||
    !shape.every(n => Number.isInteger(n) && n >= 0)
  ) {
    throw new FieldError(
      field.name,
      `${field.name}: the shape must be an array of sizes, e.g. [1, 4]`
    );
  }
  const data = parse(field, 'data', field.data);
  if (!Array.isArray(data)) {
    throw new FieldError(
      field.name,
      `${field.name}: the data must be a JSON array, e.g. [0.5, 1.2]`
    );
  }
  const values = flatten(data);
  const count = (shape as number[]).reduce((a, b) => a * b, 1);
  if (values.length !== count) {
    throw new FieldError(
      field.name,
      `${field.name}: shape ${JSON.stringify(shape)} takes ${count} values, the data has ${values.length}`
    );
  }
  return {
    name: field.name,
    shape: shape as number[],
    datatype: field.datatype,
    data: values
  };
}

function flatten(data: unknown[]): unknown[] {
  return data.reduce<unknown[]>(
    (all, item) => all.concat(Array.isArray(item) ? flatten(item) : [item]),
    []
  );
}

function parse(field: IInputField, what: string, text: string): unknown {
  if (text.trim() === '') {
    throw new FieldError(field.name, `${field.name}: give its ${what}`);
  }
  try {
    return JSON.parse(text);
  } catch (reason) {
    throw new FieldError(
      field.name,
      `${field.name}: the ${what} is not JSON (${(reason as Error).message})`
    );
  }
}

/**
 * What the response area shows: the answer as it is, pretty-printed.
 */
export function responseText(answer: unknown): string {
  return JSON.stringify(answer, null, 2);
}
