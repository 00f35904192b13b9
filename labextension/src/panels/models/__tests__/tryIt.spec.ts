import { fakeServer } from '../../../__tests__/fakeServer';
import { ModelsClient } from '../client';
import { FieldError, fieldsFromMetadata, inferBody } from '../tryIt';
import { TryItModel } from '../tryItModel';

const METADATA = {
  name: 'iris',
  versions: ['1'],
  platform: 'mlflow',
  inputs: [
    { name: 'input-0', datatype: 'FP64', shape: [-1, 2] },
    { name: 'note', datatype: 'BYTES', shape: [-1] }
  ],
  outputs: [{ name: 'label', datatype: 'BYTES', shape: [-1] }]
};

describe('fieldsFromMetadata', () => {
  it('makes one field per input, any size (-1) made 1, small numbers zeroed', () => {
    expect(fieldsFromMetadata(METADATA)).toEqual([
      { name: 'input-0', datatype: 'FP64', shape: '[1,2]', data: '[0,0]' },
      { name: 'note', datatype: 'BYTES', shape: '[1]', data: '' }
    ]);
  });

  it('offers one editable input when the metadata names none', () => {
    const [only] = fieldsFromMetadata({ name: 'x', inputs: [] });
    expect(only).toMatchObject({ name: 'input-0', shape: '[1,1]' });
  });

  it('leaves a large input empty rather than pre-filling thousands of zeros', () => {
    const [image] = fieldsFromMetadata({
      name: 'x',
      inputs: [{ name: 'pixels', datatype: 'FP32', shape: [-1, 28, 28] }]
    });
    expect(image).toMatchObject({ shape: '[1,28,28]', data: '' });
  });
});

describe('inferBody', () => {
  const field = { name: 'input-0', datatype: 'FP64', shape: '[2, 2]' };

  it('builds the OIP v2 request, nested rows flattened', () => {
    expect(inferBody([{ ...field, data: '[[0, 0.1], [2, 2.1]]' }])).toEqual({
      inputs: [
        {
          name: 'input-0',
          shape: [2, 2],
          datatype: 'FP64',
          data: [0, 0.1, 2, 2.1]
        }
      ]
    });
  });

  it.each([
    ['[1, 2', '[0]', 'input-0: the shape is not JSON'],
    ['[1, -2]', '[0]', 'input-0: the shape must be an array of sizes'],
    ['[]', '[0]', 'input-0: the shape must be an array of sizes'],
    ['[2, 2]', '', 'input-0: give its data'],
    ['[2, 2]', '{"a": 1}', 'input-0: the data must be a JSON array'],
    [
      '[2, 2]',
      '[1, 2, 3]',
      'input-0: shape [2,2] takes 4 values, the data has 3'
    ]
  ])(
    'refuses shape %s with data %s, naming the input',
    (shape, data, message) => {
      let thrown: unknown = null;
      try {
        inferBody([{ ...field, shape, data }]);
      } catch (reason) {
        thrown = reason;
      }
      expect(thrown).toBeInstanceOf(FieldError);
      expect((thrown as FieldError).field).toBe('input-0');
      expect((thrown as FieldError).message).toContain(message);
    }
  );
});

describe('TryItModel', () => {
  it('reads the metadata, sends the form and shows the answer as it is', async () => {
    const answer = {
      model_name: 'iris',
      outputs: [{ name: 'label', shape: [1], datatype: 'BYTES', data: ['a'] }]
    };
    const { settings, requests } = fakeServer(
      { body: METADATA },
      { body: answer }
    );
    const model = new TryItModel({
      client: new ModelsClient(settings),
      endpoint: 'iris'
    });
    expect(await model.load()).toBe(true);
    model.edit(0, { data: '[2.1, 2.0]' });
    model.edit(1, { data: '["hi"]' });

    expect(await model.send()).toBe(true);
    expect(model.response).toBe(JSON.stringify(answer, null, 2));
    expect(requests.map(r => `${r.method} ${new URL(r.url).pathname}`)).toEqual(
      [
        expect.stringMatching(/GET .*\/labworks\/deployments\/iris\/metadata$/),
        expect.stringMatching(/POST .*\/labworks\/deployments\/iris\/infer$/)
      ]
    );
    expect(JSON.parse(await requests[1].text())).toEqual({
      inputs: [
        { name: 'input-0', shape: [1, 2], datatype: 'FP64', data: [2.1, 2.0] },
        { name: 'note', shape: [1], datatype: 'BYTES', data: ['hi'] }
      ]
    });
    model.dispose();
  });

  it('shows a field at fault without sending, and the model’s refusal as it says it', async () => {
    const { settings, requests } = fakeServer(
      { body: METADATA },
      {
        status: 400,
        body: {
          error: 'inference_error',
          message:
            "input tensor 'input-0': datatype FP64, the model takes INT64"
        }
      }
    );
    const model = new TryItModel({
      client: new ModelsClient(settings),
      endpoint: 'iris'
    });
    await model.load();
    model.edit(1, { data: '["x"]' });
    model.edit(0, { data: '[1]' });

    expect(await model.send()).toBe(false);
    expect(model.error).toBe(
      'input-0: shape [1,2] takes 2 values, the data has 1'
    );
    expect(requests).toHaveLength(1);

    model.edit(0, { data: '[1, 2]' });
    expect(await model.send()).toBe(false);
    expect(model.error).toBe(
      "input tensor 'input-0': datatype FP64, the model takes INT64"
    );
    expect(model.response).toBeNull();
    model.dispose();
  });
});
