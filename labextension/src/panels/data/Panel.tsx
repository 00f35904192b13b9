import {
  ITranslator,
  nullTranslator,
  TranslationBundle
} from '@jupyterlab/translation';
import React from 'react';

import { LazyPanel, loadOnce } from '../../lazyPanel';
import { DatasetsView, IDataActions } from './DatasetsView';
import type { DataModel } from './model';
import type { SourcesModel } from './sourcesModel';
import { ISourcesActions, SourcesView } from './SourcesView';

/**
 * The sections of the Data panel.
 */
export type DataSection = 'datasets' | 'sources';

/**
 * The Data panel of the sidebar, in two sections: the datasets the person
 * may read, last updated first (one opens with its versions and a version's
 * files), and the data sources of the platform (when given). Each section
 * loads when it is first shown.
 */
export class DataPanel extends LazyPanel {
  constructor(options: DataPanel.IOptions) {
    super();
    this.model = options.model;
    this.sources = options.sources ?? null;
    this._actions = options.actions;
    this._trans = (options.translator ?? nullTranslator).load('labworks');
    this.id = 'labworks-data';
    this.node.dataset.testid = 'labworks-data-panel'; // both sections are in it
    this.addClass('jp-Labworks-DataPanel');
    this.title.label = this._trans.__('Data');
    this.title.caption = this._trans.__(
      'Versioned datasets and data sources you can read'
    );
    this.watch(this.model);
    if (this.sources !== null) {
      this.watch(this.sources.model);
    }
  }

  readonly model: DataModel;

  /**
   * The Sources section's model and actions, or `null` for none.
   */
  readonly sources: DataPanel.ISources | null;

  /**
   * The section shown.
   */
  get section(): DataSection {
    return this._section;
  }

  /**
   * Show a section, loading it the first time.
   */
  showSection(section: DataSection): void {
    this._section = this.sources === null ? 'datasets' : section;
    this.onVisible();
    this.update();
  }

  protected render(): JSX.Element {
    const trans = this._trans;
    const datasets = (
      <DatasetsView
        model={this.model}
        actions={this._actions}
        trans={this._trans}
      />
    );
    if (this.sources === null) {
      return datasets;
    }
    return (
      <>
        <div
          className="jp-Labworks-dataSections"
          role="tablist"
          aria-label={trans.__('Data')}
        >
          {(['datasets', 'sources'] as const).map(section => (
            <button
              key={section}
              role="tab"
              aria-selected={this._section === section}
              data-testid={`labworks-data-tab-${section}`}
              onClick={() => this.showSection(section)}
            >
              {section === 'datasets'
                ? trans.__('Datasets')
                : trans.__('Sources')}
            </button>
          ))}
        </div>
        {this._section === 'datasets' ? (
          datasets
        ) : (
          <SourcesView
            model={this.sources.model}
            actions={this.sources.actions}
            trans={trans}
          />
        )}
      </>
    );
  }

  protected onVisible(): void {
    if (this._section === 'sources' && this.sources !== null) {
      loadOnce(this.sources.model);
    } else {
      loadOnce(this.model);
    }
  }

  private _actions: IDataActions;
  private _section: DataSection = 'datasets';
  private _trans: TranslationBundle;
}

/**
 * A namespace for DataPanel statics.
 */
export namespace DataPanel {
  /**
   * Options to create a DataPanel.
   */
  export interface IOptions {
    model: DataModel;
    actions: IDataActions;
    /**
     * The Sources section; without it the panel shows the datasets only.
     */
    sources?: ISources;
    translator?: ITranslator;
  }

  /**
   * The Sources section's model and what it asks the application to do.
   */
  export interface ISources {
    model: SourcesModel;
    actions: ISourcesActions;
  }
}
