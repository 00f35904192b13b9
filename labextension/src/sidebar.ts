import type { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import type { ICommandPalette } from '@jupyterlab/apputils';
import type { TranslationBundle } from '@jupyterlab/translation';
import type { LabIcon } from '@jupyterlab/ui-components';
import type { CommandRegistry } from '@lumino/commands';
import { ISignal, Signal } from '@lumino/signaling';
import type { Widget } from '@lumino/widgets';

import type { ILabworksSidebar } from './tokens';

/**
 * Where a panel goes when neither the settings nor its options say:
 * the left area, after JupyterLab's own tabs.
 */
export const DEFAULT_PLACEMENT: ILabworksSidebar.IPlacement = {
  area: 'left',
  rank: 900
};

/**
 * The arguments a launcher card gives a panel's open command.
 */
export const LAUNCHER_ARGS = { isLauncher: true };

/**
 * The placements the settings give, by panel id.
 */
export type Placements = Record<string, Partial<ILabworksSidebar.IPlacement>>;

/**
 * The registry of Labworks panels: each panel is its own tab of the shell's
 * side area, placed as the `labworks:sidebar` settings say (by panel id),
 * restored with the layout, and moved when the settings change.
 */
export class LabworksSidebar implements ILabworksSidebar {
  constructor(options: LabworksSidebar.IOptions) {
    this._shell = options.shell;
    this._restorer = options.restorer ?? null;
    this._placements = options.placements ?? {};
  }

  get panels(): ReadonlyArray<ILabworksSidebar.IPanel> {
    return [...this._panels.values()];
  }

  get panelAdded(): ISignal<this, ILabworksSidebar.IPanel> {
    return this._panelAdded;
  }

  addPanel(panel: Widget, options: ILabworksSidebar.IPanelOptions = {}): void {
    if (!panel.id) {
      throw new Error('A Labworks panel needs an id');
    }
    if (this._panels.has(panel.id)) {
      throw new Error(
        `A Labworks panel with id "${panel.id}" is already added`
      );
    }
    const entry = { widget: panel, options };
    this._panels.set(panel.id, entry);
    panel.disposed.connect(() => this._panels.delete(panel.id));
    this._place(panel);
    this._restorer?.add(panel, panel.id);
    this._panelAdded.emit(entry);
  }

  activatePanel(panelId: string): void {
    if (this._panels.has(panelId)) {
      this._shell.activateById(panelId);
    }
  }

  /**
   * Where the panel with this id goes: its settings, else its options, else
   * the default; each field on its own.
   */
  placement(panelId: string): ILabworksSidebar.IPlacement {
    const fallback = this._panels.get(panelId)?.options.placement ?? {};
    const set = this._placements[panelId] ?? {};
    return {
      area: set.area ?? fallback.area ?? DEFAULT_PLACEMENT.area,
      rank: set.rank ?? fallback.rank ?? DEFAULT_PLACEMENT.rank
    };
  }

  /**
   * Take new settings, and move the tabs they place elsewhere.
   */
  setPlacements(placements: Placements): void {
    this._placements = placements;
    this.reconcile();
  }

  /**
   * Put the tabs where their placements say, in rank order, whatever put
   * them elsewhere: new settings, or a layout restored from before the
   * settings changed (JupyterLab restores a side tab into the area it was
   * saved in). A moved tab stays shown if it was.
   */
  reconcile(): void {
    for (const area of ['left', 'right'] as const) {
      const wanted = [...this._panels.values()]
        .map(panel => panel.widget)
        .filter(widget => this.placement(widget.id).area === area)
        .sort((a, b) => this.placement(a.id).rank - this.placement(b.id).rank);
      const actual = Array.from(this._shell.widgets(area)).filter(widget =>
        this._panels.has(widget.id)
      );
      const placed =
        wanted.length === actual.length &&
        wanted.every(
          (widget, index) =>
            widget === actual[index] &&
            this._ranks.get(widget.id) === this.placement(widget.id).rank
        );
      if (!placed) {
        wanted.forEach(widget => this._place(widget));
      }
    }
  }

  /**
   * Add the panel's tab to the shell where its placement says.
   */
  private _place(widget: Widget): void {
    const { area, rank } = this.placement(widget.id);
    const visible = widget.isVisible;
    this._ranks.set(widget.id, rank);
    this._shell.add(widget, area, { rank });
    if (visible) {
      this._shell.activateById(widget.id);
    }
  }

  private _panels = new Map<string, ILabworksSidebar.IPanel>();
  private _panelAdded = new Signal<this, ILabworksSidebar.IPanel>(this);
  private _placements: Placements;
  private _ranks = new Map<string, number>();
  private _restorer: ILayoutRestorer | null;
  private _shell: JupyterFrontEnd.IShell;
}

/**
 * A namespace for LabworksSidebar statics.
 */
export namespace LabworksSidebar {
  /**
   * Options to create the registry.
   */
  export interface IOptions {
    /** The application shell the tabs go into. */
    shell: JupyterFrontEnd.IShell;
    /** Restores the tabs with the layout, where there is one. */
    restorer?: ILayoutRestorer | null;
    /** The settings' placements by panel id. */
    placements?: Placements;
  }
}

/**
 * Add a panel as its own sidebar tab: its icon, its model disposed with it,
 * the command that opens it (its launcher card, the palette: labelled with
 * the panel's name on a launcher card, "Open Labworks <name>" elsewhere),
 * refreshing its model each time it is opened unless `refreshOnOpen` is
 * false.
 */
export function addPanelTab(
  commands: CommandRegistry,
  options: {
    sidebar: ILabworksSidebar;
    panel: Widget;
    model: { refresh(): unknown; dispose(): void };
    icon: LabIcon;
    command: string;
    placement?: Partial<ILabworksSidebar.IPlacement>;
    trans: TranslationBundle;
    palette?: ICommandPalette | null;
    refreshOnOpen?: boolean;
  }
): void {
  const { sidebar, panel, model, command, trans } = options;
  panel.title.icon = options.icon;
  panel.disposed.connect(() => model.dispose());
  sidebar.addPanel(panel, { command, placement: options.placement });
  commands.addCommand(command, {
    label: args =>
      args.isLauncher
        ? panel.title.label
        : trans.__('Open Labworks %1', panel.title.label),
    caption: trans.__('Show the Labworks %1 panel', panel.title.label),
    icon: options.icon,
    describedBy: {
      args: {
        type: 'object',
        properties: { isLauncher: { type: 'boolean' } }
      }
    },
    execute: () => {
      sidebar.activatePanel(panel.id);
      if (options.refreshOnOpen !== false) {
        void model.refresh();
      }
    }
  });
  options.palette?.addItem({ command, category: trans.__('Labworks') });
}
