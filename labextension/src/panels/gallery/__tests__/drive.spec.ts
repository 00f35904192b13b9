import { ContentsManager } from '@jupyterlab/services';

import { fakeServer } from '../../../__tests__/fakeServer';
import {
  GALLERY_DRIVE,
  GalleryDrive,
  parseVersionPath,
  versionPath
} from '../drive';
import { GalleryModel } from '../model';
import { sampleVersion } from './sample';

const READ_ONLY = 'Gallery versions are read-only';

describe('gallery drive paths', () => {
  it('name an entry, a version and a notebook', () => {
    expect(versionPath(7, 2, 'focus.ipynb')).toBe(
      'LabworksGallery:7/v2/focus (v2).ipynb'
    );
    expect(parseVersionPath('7/v2/focus.ipynb')).toEqual({
      id: 7,
      number: 2,
      name: 'focus.ipynb'
    });
    expect(parseVersionPath('/7/v2/focus.ipynb')?.id).toBe(7);
    for (const bad of [
      '7/focus.ipynb',
      'x/v2/a.ipynb',
      '7/v2/a.txt',
      '7/v2/'
    ]) {
      expect(parseVersionPath(bad)).toBeNull();
    }
  });
});

describe('GalleryDrive', () => {
  it('serves a version as a notebook nobody can write, through the contents manager', async () => {
    const { settings, requests } = fakeServer({ body: sampleVersion() });
    const model = new GalleryModel({ serverSettings: settings });
    const contents = new ContentsManager({ serverSettings: settings });
    contents.addDrive(new GalleryDrive(model, READ_ONLY));

    const file = await contents.get(versionPath(7, 2, 'focus.ipynb'));

    expect(new URL(requests[0].url).pathname).toMatch(
      /\/labworks\/gallery\/7\/versions\/2$/
    );
    expect(file.path).toBe(`${GALLERY_DRIVE}:7/v2/focus (v2).ipynb`);
    expect(file.name).toBe('focus (v2).ipynb');
    expect(file.type).toBe('notebook');
    expect(file.writable).toBe(false);
    expect(file.format).toBe('json');
    expect(file.content.cells[0].source).toBe('f = 85');
    expect(file.last_modified).toBe(sampleVersion().published_at);
    contents.dispose();
    model.dispose();
  });

  it('refuses every change with the read-only message', async () => {
    const { settings, requests } = fakeServer();
    const drive = new GalleryDrive(
      new GalleryModel({ serverSettings: settings }),
      READ_ONLY
    );
    for (const attempt of [
      drive.save(),
      drive.rename(),
      drive.delete(),
      drive.newUntitled(),
      drive.copy(),
      drive.createCheckpoint(),
      drive.getDownloadUrl()
    ]) {
      await expect(attempt).rejects.toThrow(READ_ONLY);
    }
    expect(await drive.listCheckpoints()).toEqual([]);
    await expect(drive.get('not/a/version')).rejects.toThrow(
      'No gallery version at not/a/version'
    );
    expect(requests).toHaveLength(0);
    expect(drive.name).toBe(GALLERY_DRIVE);
    drive.dispose();
    expect(drive.isDisposed).toBe(true);
  });
});
