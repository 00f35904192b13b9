import { ServerConnection } from '@jupyterlab/services';

/**
 * One answer of the fake server: a status and a body (an object is sent as JSON).
 */
export interface IFakeAnswer {
  status?: number;
  statusText?: string;
  body?: unknown;
}

/**
 * Server settings whose fetch answers from a queue and records each request,
 * so that the real requestAPI() runs end to end without a server.
 *
 * The base URL holds a space and an `@`, so URL escaping is exercised.
 */
export function fakeServer(
  ...answers: (IFakeAnswer | Error | Promise<IFakeAnswer>)[]
): { settings: ServerConnection.ISettings; requests: Request[] } {
  const requests: Request[] = [];
  const fetch = async (request: Request): Promise<Response> => {
    requests.push(request);
    const next = answers.shift();
    if (next === undefined) {
      throw new Error('fakeServer: no answer left');
    }
    if (next instanceof Error) {
      throw new TypeError(next.message);
    }
    const { status = 200, statusText = '', body } = await next;
    // No body at all when none is given, so that a 204 can be answered.
    const text =
      body === undefined
        ? null
        : typeof body === 'string'
          ? body
          : JSON.stringify(body);
    return new Response(text, { status, statusText });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl: 'http://localhost:8888/user/al ice@lab/',
    fetch: fetch as typeof globalThis.fetch
  });
  return { settings, requests };
}
