import { LabIcon } from '@jupyterlab/ui-components';

/**
 * The Labworks icons: one per sidebar tab, each a simple shape on a 24×24
 * grid filled with `jp-icon3`, so that every theme recolours it as it does
 * JupyterLab's own sidebar icons.
 */
function icon(name: string, shapes: string): LabIcon {
  return new LabIcon({
    name: `labworks:${name}`,
    svgstr: `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24"><g class="jp-icon3" fill="#616161">${shapes}</g></svg>`
  });
}

/**
 * A lab flask: the outline is a ring (even-odd fill) and the liquid a
 * separate shape. The Labworks mark (settings, launcher section).
 */
export const labworksIcon = icon(
  'flask',
  '<path fill-rule="evenodd" d="M8.5 2h7v2h-1v5.1l5.4 9.3a2.4 2.4 0 0 1-2.1 3.6H6.2a2.4 2.4 0 0 1-2.1-3.6l5.4-9.3V4h-1zM11 4v5.6l-5.1 9.6a.8.8 0 0 0 .7 1.2h10.8a.8.8 0 0 0 .7-1.2L13 9.6V4z"/>' +
    '<path d="M8 16.5h8l1.4 2.5a.5.5 0 0 1-.4.6H7a.5.5 0 0 1-.4-.6z"/>'
);

/**
 * A monitor: the Workspace panel (this workspace's machine).
 */
export const workspaceIcon = icon(
  'workspace',
  '<path fill-rule="evenodd" d="M3 3h18a1 1 0 0 1 1 1v12a1 1 0 0 1-1 1h-7v2h3v2H7v-2h3v-2H3a1 1 0 0 1-1-1V4a1 1 0 0 1 1-1zm1 2v10h16V5z"/>'
);

/**
 * A clock face with a play mark: the Jobs panel (notebooks run now or on a
 * schedule).
 */
export const jobsIcon = icon(
  'jobs',
  '<path fill-rule="evenodd" d="M12 2a10 10 0 1 1 0 20 10 10 0 0 1 0-20zm0 2a8 8 0 1 0 0 16 8 8 0 0 0 0-16z"/>' +
    '<path d="M10 7.5l6 4.5-6 4.5z"/>'
);

/**
 * A bar chart: the Experiments panel (tracked runs and their metrics).
 */
export const experimentsIcon = icon(
  'experiments',
  '<path d="M3 20h18v2H3z"/><path d="M4.5 12h3.5v7H4.5z"/><path d="M10.25 7h3.5v12h-3.5z"/><path d="M16 3h3.5v16H16z"/>'
);

/**
 * A stack of disks: the Data panel (versioned datasets).
 */
export const dataIcon = icon(
  'data',
  '<ellipse cx="12" cy="5" rx="8" ry="3"/>' +
    '<path d="M4 7.5v3.5c0 1.7 3.6 3 8 3s8-1.3 8-3V7.5c0 1.7-3.6 3-8 3s-8-1.3-8-3z"/>' +
    '<path d="M4 13.5V19c0 1.7 3.6 3 8 3s8-1.3 8-3v-5.5c0 1.7-3.6 3-8 3s-8-1.3-8-3z"/>'
);

/**
 * A framed picture: the Gallery panel (notebooks published to a group).
 */
export const galleryIcon = icon(
  'gallery',
  '<path fill-rule="evenodd" d="M2 4h20v16H2zm2 2v12h16V6z"/>' +
    '<path d="M5 17l4.5-6 3.5 4.5 2-2.5 4 4z"/><circle cx="16" cy="9" r="1.5"/>'
);

/**
 * Two people: the Admin panel (users and groups).
 */
export const adminIcon = icon(
  'admin',
  '<circle cx="9" cy="7.5" r="3.5"/><path d="M2 20c0-3.9 3.1-6.5 7-6.5s7 2.6 7 6.5z"/>' +
    '<circle cx="17" cy="8.5" r="2.5"/><path d="M17.5 13c2.8.2 4.5 2.2 4.5 5h-4.5c0-2-.7-3.7-2-4.8.6-.1 1.3-.2 2-.2z"/>'
);

/**
 * Trial points on a pair of axes, the best one larger: the Sweeps panel
 * (hyperparameter search over a notebook's parameters).
 */
export const sweepsIcon = icon(
  'sweeps',
  '<path d="M3 3h2v16h16v2H3z"/>' +
    '<circle cx="8.5" cy="9" r="1.6"/><circle cx="12" cy="14" r="1.6"/>' +
    '<circle cx="18.5" cy="8" r="1.6"/><circle cx="15" cy="15.5" r="2.6"/>'
);

/**
 * A cube: the Models panel (registered models and the endpoints that serve
 * them).
 */
export const modelsIcon = icon(
  'models',
  '<path fill-rule="evenodd" d="M12 2l9 4.5v11L12 22l-9-4.5v-11zM5 8.1v8.2l6 3v-8.2zm8 3v8.2l6-3V8.1zM6.3 7l5.7 2.8L17.7 7 12 4.2z"/>'
);

/**
 * A price tag: the Cost panel (what work costs, budgets).
 */
export const costIcon = icon(
  'cost',
  '<path fill-rule="evenodd" d="M3 3h8.2l9.8 9.8-8.2 8.2L3 11.2zm4.5 2.5a2 2 0 1 0 0 4 2 2 0 0 0 0-4z"/>'
);
