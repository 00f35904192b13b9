import { LabIcon } from '@jupyterlab/ui-components';

/**
 * A lab flask: the outline is a ring (even-odd fill) and the liquid a
 * separate shape. `jp-icon3` lets the theme recolour both.
 */
const flaskSvg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <path fill-rule="evenodd" d="M8.5 2h7v2h-1v5.1l5.4 9.3a2.4 2.4 0 0 1-2.1 3.6H6.2a2.4 2.4 0 0 1-2.1-3.6l5.4-9.3V4h-1zM11 4v5.6l-5.1 9.6a.8.8 0 0 0 .7 1.2h10.8a.8.8 0 0 0 .7-1.2L13 9.6V4z"/>
    <path d="M8 16.5h8l1.4 2.5a.5.5 0 0 1-.4.6H7a.5.5 0 0 1-.4-.6z"/>
  </g>
</svg>`;

/**
 * The Labworks icon, shown on the sidebar tab.
 */
export const labworksIcon = new LabIcon({
  name: 'labworks:flask',
  svgstr: flaskSvg
});
