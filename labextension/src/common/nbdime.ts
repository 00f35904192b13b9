import { URLExt } from '@jupyterlab/coreutils';
import type { ServerConnection } from '@jupyterlab/services';

/**
 * The two notebook files of this workspace that nbdime's diff page compares.
 */
export interface IDiffFiles {
  base: string;
  remote: string;
}

/**
 * The address of nbdime's diff page (its server extension's ``/nbdime/difftool``)
 * for two notebook files of this workspace.
 */
export function diffUrl(
  settings: ServerConnection.ISettings,
  files: IDiffFiles
): string {
  return (
    URLExt.join(settings.baseUrl, 'nbdime', 'difftool') +
    URLExt.objectToQueryString({ base: files.base, remote: files.remote })
  );
}

/**
 * Show nbdime's diff of `files` in `tab`, a browser tab opened at the click;
 * a new one when there is none.
 *
 * JupyterHub forbids framing a server's pages (``frame-ancestors 'none'``), so
 * nbdime's page cannot sit in a lab tab, and a popup opened after an await
 * would be blocked: the caller opens the tab at once, and it is pointed at
 * the page once the files are written where nbdime reads them.
 *
 * @param files Resolves the written files, or `null` when that failed (the
 *   tab is then closed)
 * @returns whether the diff was shown
 */
export async function showDiff(
  settings: ServerConnection.ISettings,
  tab: Window | null,
  files: Promise<IDiffFiles | null>
): Promise<boolean> {
  const written = await files;
  if (written === null) {
    tab?.close();
    return false;
  }
  const url = diffUrl(settings, written);
  if (tab) {
    tab.location.href = url;
  } else {
    window.open(url, '_blank');
  }
  return true;
}
