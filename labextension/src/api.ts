import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { IErrorBody } from './tokens';

/**
 * The error thrown when a Labworks route answers with an error status.
 *
 * `message` is the server's message, `code` its `error` code and `status`
 * the HTTP status.
 */
export class APIError extends ServerConnection.ResponseError {
  constructor(response: Response, code: string, message: string) {
    super(response, message);
    this.name = 'APIError';
    this.code = code;
    this.status = response.status;
  }

  /**
   * The `error` code of the JSON body, or `http_<status>` when the body had none.
   */
  readonly code: string;

  /**
   * The HTTP status of the response.
   */
  readonly status: number;
}

/**
 * Call a route of the Labworks server extension (`<baseUrl>/labworks/<endPoint>`).
 *
 * @param endPoint Path below `/labworks/`, e.g. `workspace`
 * @param init Initial values for the request
 * @param settings The server settings; defaults to the page's settings
 * @returns The response body parsed as JSON (`undefined` for 204 No Content)
 * @throws {APIError} when the server answers with an error status
 * @throws {ServerConnection.NetworkError} when the server cannot be reached
 */
export async function requestAPI<T>(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const response = await requestResponse(endPoint, init, settings);
  if (response.status === 204) {
    return undefined as T; // done, nothing to say (e.g. a DELETE)
  }
  const body = Private.parseJSON(await response.text());
  if (body === undefined) {
    throw new APIError(
      response,
      'invalid_response',
      `labworks/${endPoint} did not answer with JSON`
    );
  }
  return body as T;
}

/**
 * Call a route whose answer is not JSON (a file, CSV); refusals as `requestAPI`'s.
 *
 * @returns The successful response, its body unread
 * @throws {APIError} when the server answers with an error status
 * @throws {ServerConnection.NetworkError} when the server cannot be reached
 */
export async function requestResponse(
  endPoint: string,
  init: RequestInit = {},
  settings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<Response> {
  const url = URLExt.join(settings.baseUrl, 'labworks', endPoint);

  // Rejects with ServerConnection.NetworkError when the server cannot be reached.
  const response = await ServerConnection.makeRequest(url, init, settings);
  if (!response.ok) {
    const body = Private.parseJSON(await response.text());
    const { code, message } = Private.describeError(response, endPoint, body);
    throw new APIError(response, code, message);
  }
  return response;
}

namespace Private {
  /**
   * The JSON value of a body, or `undefined` when it is empty or not JSON.
   */
  export function parseJSON(text: string): unknown {
    if (text.length === 0) {
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /**
   * Read the `{"error", "message"}` body of a failed response, or describe
   * the failure from its status when the body is something else (for
   * instance the HTML 404 page of a server without the Labworks extension).
   */
  export function describeError(
    response: Response,
    endPoint: string,
    body: unknown
  ): { code: string; message: string } {
    const fields = (body ?? {}) as Partial<IErrorBody>;
    const code =
      typeof fields.error === 'string' && fields.error
        ? fields.error
        : `http_${response.status}`;
    const message =
      typeof fields.message === 'string' && fields.message
        ? fields.message
        : `labworks/${endPoint} answered ${response.status} ${response.statusText}`.trim();
    return { code, message };
  }
}
