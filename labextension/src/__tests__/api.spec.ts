import { ServerConnection } from '@jupyterlab/services';

import { APIError, requestAPI, requestResponse } from '../api';
import { fakeServer } from './fakeServer';

/**
 * The reason a promise rejects with.
 */
async function failure(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (reason) {
    return reason;
  }
  throw new Error('the promise resolved');
}

describe('requestAPI', () => {
  it('GETs <baseUrl>/labworks/<endPoint> and returns the JSON body', async () => {
    const { settings, requests } = fakeServer({ body: { user: 'alice' } });

    const body = await requestAPI<{ user: string }>('workspace', {}, settings);

    expect(body).toEqual({ user: 'alice' });
    expect(requests).toHaveLength(1);
    expect(requests[0].method).toBe('GET');
    const url = new URL(requests[0].url);
    expect(url.origin).toBe('http://localhost:8888');
    expect(url.pathname).toBe('/user/al%20ice@lab/labworks/workspace');
  });

  it('throws an APIError with the server message, code and status', async () => {
    const { settings } = fakeServer({
      status: 502,
      body: { error: 'platform_unreachable', message: 'No answer from hub' }
    });

    const error = await failure(requestAPI('workspace', {}, settings));

    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    expect(error.message).toBe('No answer from hub');
    expect(error.code).toBe('platform_unreachable');
    expect(error.status).toBe(502);
  });

  it('describes an error answer that is not JSON by its status', async () => {
    const { settings } = fakeServer({
      status: 404,
      statusText: 'Not Found',
      body: '<html>404</html>'
    });

    const error = await failure(requestAPI('workspace', {}, settings));

    expect(error).toBeInstanceOf(APIError);
    expect(error.message).toBe('labworks/workspace answered 404 Not Found');
    expect(error.code).toBe('http_404');
  });

  it('refuses a successful answer that is not JSON', async () => {
    const { settings } = fakeServer({ body: 'not json' });

    await expect(requestAPI('workspace', {}, settings)).rejects.toThrow(
      'labworks/workspace did not answer with JSON'
    );
  });

  it('rejects with a NetworkError when the server cannot be reached', async () => {
    const { settings } = fakeServer(new Error('connection refused'));

    const error = await failure(requestAPI('workspace', {}, settings));

    expect(error).toBeInstanceOf(ServerConnection.NetworkError);
    expect(error.message).toBe('connection refused');
  });
});

describe('requestResponse', () => {
  it('resolves the response of a body that is not JSON, unread', async () => {
    const { settings, requests } = fakeServer({ body: 'a,b\n1,2\n' });
    const response = await requestResponse(
      'experiments/runs/export',
      { method: 'POST', body: '{}' },
      settings
    );
    expect(await response.text()).toBe('a,b\n1,2\n');
    expect(requests[0].method).toBe('POST');
  });

  it('refuses with the same APIError as requestAPI', async () => {
    const { settings } = fakeServer(
      { status: 404, body: { error: 'not_found', message: 'No such run' } },
      { status: 502, statusText: 'Bad Gateway', body: '<html>' }
    );
    const refused = await failure(requestResponse('x', {}, settings));
    expect(refused).toBeInstanceOf(APIError);
    expect(refused.code).toBe('not_found');
    expect(refused.message).toBe('No such run');
    expect(refused.status).toBe(404);

    const notJson = await failure(requestResponse('x', {}, settings));
    expect(notJson.code).toBe('http_502');
    expect(notJson.message).toBe('labworks/x answered 502 Bad Gateway');
  });
});
