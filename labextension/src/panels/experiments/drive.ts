import type { Contents } from '@jupyterlab/services';

import { ReadOnlyDrive } from '../../readOnlyDrive';
import type { ExperimentsClient } from '../../common/experiments/client';

/**
 * The name of the read-only drive holding runs' artifacts.
 */
export const ARTIFACTS_DRIVE = 'LabworksArtifacts';

/**
 * How the lab reads a file type: as text, base64 (images, ...) or a
 * notebook; and its MIME type.
 */
export interface IFileFormat {
  format: 'text' | 'base64' | 'json';
  mimetype: string;
}

/**
 * The drive path of a run's artifact, `LabworksArtifacts:<run id>/<path>`:
 * its tab shows the file's name.
 */
export function artifactDrivePath(runId: string, path: string): string {
  return `${ARTIFACTS_DRIVE}:${runId}/${path}`;
}

/**
 * The run id and artifact path a drive path names, or `null`.
 */
export function parseArtifactPath(
  localPath: string
): { runId: string; path: string } | null {
  const match = /^\/?([0-9a-zA-Z]+)\/(.+)$/.exec(localPath);
  return match ? { runId: match[1], path: match[2] } : null;
}

/**
 * The bytes of a blob as base64.
 */
export async function toBase64(blob: Blob): Promise<string> {
  const bytes = new Uint8Array(await blob.arrayBuffer());
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

/**
 * A read-only drive serving runs' artifacts from the tracking server, so
 * the lab opens them with its own viewers: images, text, CSV, JSON,
 * notebooks. Nothing is written into the workspace.
 */
export class ArtifactDrive extends ReadOnlyDrive {
  constructor(options: ArtifactDrive.IOptions) {
    super({
      name: ARTIFACTS_DRIVE,
      serverSettings: options.client.serverSettings,
      readOnlyMessage: options.readOnlyMessage,
      load: (localPath, withContent) =>
        ArtifactDrive.load(options, localPath, withContent)
    });
  }
}

/**
 * A namespace for ArtifactDrive statics.
 */
export namespace ArtifactDrive {
  /**
   * Options to create an ArtifactDrive.
   */
  export interface IOptions {
    client: ExperimentsClient;
    readOnlyMessage: string;
    /** How the lab reads the file at a path (from its file types). */
    fileFormat(path: string): IFileFormat;
  }

  /**
   * The contents model of an artifact.
   */
  export async function load(
    options: IOptions,
    localPath: string,
    withContent: boolean
  ): Promise<Contents.IModel> {
    const where = parseArtifactPath(localPath);
    if (where === null) {
      throw new Error(`No run artifact at ${localPath}`);
    }
    const name = where.path.split('/').pop() ?? where.path;
    const modified = new Date().toISOString();
    const { format, mimetype } = options.fileFormat(where.path);
    const blob = withContent
      ? await options.client.artifact(where.runId, where.path)
      : null;
    if (format === 'json') {
      return ReadOnlyDrive.notebookModel({
        name,
        localPath,
        content: blob ? JSON.parse(await blob.text()) : {},
        withContent,
        modified,
        size: blob?.size
      });
    }
    let content: string | null = null;
    if (blob !== null) {
      content = format === 'base64' ? await toBase64(blob) : await blob.text();
    }
    return {
      name,
      path: localPath.replace(/^\//, ''),
      type: 'file',
      format: withContent ? format : null,
      mimetype,
      content,
      writable: false,
      created: modified,
      last_modified: modified,
      size: blob?.size
    };
  }
}
