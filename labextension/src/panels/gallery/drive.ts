import { ReadOnlyDrive } from '../../readOnlyDrive';
import type { GalleryModel } from './model';

/**
 * The name of the read-only drive holding gallery versions.
 */
export const GALLERY_DRIVE = 'LabworksGallery';

/**
 * The path of a version in the gallery drive, `LabworksGallery:<id>/v<n>/<stem> (v<n>).ipynb`:
 * its tab shows which version it is.
 */
export function versionPath(id: number, number: number, name: string): string {
  const stem = name.replace(/\.ipynb$/, '');
  return `${GALLERY_DRIVE}:${id}/v${number}/${stem} (v${number}).ipynb`;
}

/**
 * The entry id and version number a drive path names, or `null`.
 */
export function parseVersionPath(
  localPath: string
): { id: number; number: number; name: string } | null {
  const match = /^\/?(\d+)\/v(\d+)\/([^/]+\.ipynb)$/.exec(localPath);
  if (!match) {
    return null;
  }
  return { id: Number(match[1]), number: Number(match[2]), name: match[3] };
}

/**
 * A read-only Contents drive serving gallery versions, so that JupyterLab
 * opens them in its own notebook view, marked read-only (`writable: false`).
 *
 * Every change (save, rename, delete, checkpoints) is refused: versions are
 * immutable. Use "Copy to workspace" to get an editable copy.
 */
export class GalleryDrive extends ReadOnlyDrive {
  constructor(model: GalleryModel, readOnlyMessage: string) {
    super({
      name: GALLERY_DRIVE,
      serverSettings: model.serverSettings,
      readOnlyMessage,
      load: async (localPath, withContent) => {
        const where = parseVersionPath(localPath);
        if (where === null) {
          throw new Error(`No gallery version at ${localPath}`);
        }
        const version = await model.version(where.id, where.number);
        return ReadOnlyDrive.notebookModel({
          name: where.name,
          localPath,
          content: version.content,
          withContent,
          modified: version.published_at,
          size: version.size,
          sha256: version.sha256
        });
      }
    });
  }
}
