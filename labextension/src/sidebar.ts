import type { ITranslator } from '@jupyterlab/translation';
import { nullTranslator } from '@jupyterlab/translation';
import { SidePanel } from '@jupyterlab/ui-components';
import { AccordionPanel, Widget } from '@lumino/widgets';

import { labworksIcon } from './icons';
import type { ILabworksSidebar } from './tokens';

/**
 * The default rank of a panel in the sidebar.
 */
const DEFAULT_RANK = 100;

/**
 * The Labworks sidebar: a JupyterLab side panel whose content is an accordion
 * with one section per panel, ordered by rank.
 */
export class LabworksSidebar extends SidePanel implements ILabworksSidebar {
  constructor(options: LabworksSidebar.IOptions = {}) {
    const translator = options.translator ?? nullTranslator;
    super({ translator });
    const trans = translator.load('labworks');
    this._reveal = options.reveal ?? (() => undefined);
    this.id = 'labworks-sidebar';
    this.addClass('jp-Labworks-sidebar');
    this.title.icon = labworksIcon;
    this.title.caption = trans.__('Labworks');
  }

  addPanel(panel: Widget, options: ILabworksSidebar.IPanelOptions = {}): void {
    if (!panel.id) {
      throw new Error('A Labworks panel needs an id');
    }
    if (this._ranks.has(panel.id)) {
      throw new Error(
        `A Labworks panel with id "${panel.id}" is already added`
      );
    }
    const rank = options.rank ?? DEFAULT_RANK;
    const index = this.widgets.findIndex(
      widget => (this._ranks.get(widget.id) ?? DEFAULT_RANK) > rank
    );
    this._ranks.set(panel.id, rank);
    panel.disposed.connect(this._onPanelDisposed, this);
    this.insertWidget(index < 0 ? this.widgets.length : index, panel);
  }

  activatePanel(panelId: string): void {
    this._reveal();
    const index = this.widgets.findIndex(widget => widget.id === panelId);
    if (index < 0) {
      return;
    }
    const content = this.content;
    if (content instanceof AccordionPanel) {
      content.expand(index);
    }
  }

  private _onPanelDisposed(panel: Widget): void {
    this._ranks.delete(panel.id);
  }

  private _ranks = new Map<string, number>();
  private _reveal: () => void;
}

/**
 * A namespace for LabworksSidebar statics.
 */
export namespace LabworksSidebar {
  /**
   * Options to create the sidebar.
   */
  export interface IOptions {
    /**
     * Show the sidebar in the shell (the plugin passes `shell.activateById`).
     */
    reveal?: () => void;

    /**
     * The application language translator.
     */
    translator?: ITranslator;
  }
}
