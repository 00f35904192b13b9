import type { TranslationBundle } from '@jupyterlab/translation';
import React, { useEffect, useRef, useState } from 'react';

import {
  formatCost,
  formatPerHour,
  IPriceList,
  profilePrice
} from '../../common/cost';
import { ProfilePriceField } from '../../common/costFields';
import { formatDuration } from '../../common/format';
import { FormBody, FormDialog, launchForm } from '../../common/formDialog';
import { Field, ProfileField } from '../../common/jobs/fields';
import type { IJobProfile } from '../../common/jobs/types';
import { SweepForm } from './sweepForm';
import { sweepEstimate } from './estimate';
import type { ISpaceRow } from './space';
import {
  DIMENSION_TYPES,
  DimensionType,
  ISweepDetail,
  PRUNERS,
  Pruner,
  SAMPLERS,
  Sampler
} from './types';

/**
 * What the Sweep dialog needs.
 */
export interface ISweepDialogOptions extends SweepForm.IOptions {
  /** The profiles jobs can run on; `null`: a text field. */
  profiles: IJobProfile[] | null;
  /** Each profile's price per hour; `null` or absent: no price, no estimate. */
  prices?: IPriceList | null;
}

/**
 * Show the Sweep dialog for the (saved) notebook at `path`. It stays open
 * with the platform's refusal until a sweep is created.
 *
 * Resolves the new sweep, or `null` when the person cancelled.
 */
export function sweepDialog(
  options: ISweepDialogOptions
): Promise<ISweepDetail | null> {
  const { trans, profiles } = options;
  const form = new SweepForm(options);
  void form.load();
  const dialog = new FormDialog<ISweepDetail>({
    title: trans.__('Sweep %1', options.path),
    body: new FormBody({
      state: form,
      className: 'jp-Labworks-sweepBody',
      view: () => (
        <SweepView
          form={form}
          profiles={profiles}
          prices={options.prices}
          trans={trans}
        />
      )
    }),
    acceptLabel: trans.__('Start sweep'),
    trans
  });
  return launchForm(dialog, () => form.dispose());
}

/**
 * The Sweep dialog's form: one row per parameter, then the objective and
 * how the trials run.
 */
export function SweepView(props: {
  form: SweepForm;
  profiles: IJobProfile[] | null;
  prices?: IPriceList | null;
  trans: TranslationBundle;
}): JSX.Element {
  const { form, trans } = props;
  const s = form.settings;
  const disabled = form.busy;
  // A refusal is shown where it is seen: the form scrolls within the dialog.
  const alert = useRef<HTMLParagraphElement>(null);
  useEffect(() => {
    alert.current?.scrollIntoView?.({ block: 'nearest' });
  }, [form.error]);
  const select = <T extends string>(
    name: 'direction' | 'sampler' | 'pruner',
    label: string,
    options: ReadonlyArray<[T, string]>
  ) => (
    <Field name={`sweep-${name}`} label={label}>
      <select
        className="jp-mod-styled"
        value={s[name]}
        disabled={disabled}
        onChange={e => form.set(name, e.target.value as never)}
      >
        {options.map(([value, text]) => (
          <option key={value} value={value}>
            {text}
          </option>
        ))}
      </select>
    </Field>
  );
  const number = (name: 'trials' | 'parallel', label: string) => (
    <Field name={`sweep-${name}`} label={label}>
      <input
        className="jp-mod-styled"
        type="number"
        min={1}
        value={s[name]}
        disabled={disabled}
        onChange={e => form.set(name, e.target.value)}
      />
    </Field>
  );
  return (
    <form
      className="jp-Labworks-sweepForm"
      data-testid="labworks-sweep-form"
      aria-busy={form.busy}
      onSubmit={e => e.preventDefault()}
    >
      <p className="jp-Labworks-runJobIntro">
        {trans.__(
          'Each trial runs the saved notebook as a job with the values the sampler picks, and reports the metric it logs with mlflow.log_metric.'
        )}
      </p>
      {form.error !== null && (
        <p className="jp-Labworks-errorText" role="alert" ref={alert}>
          {form.error}
        </p>
      )}
      <fieldset className="jp-Labworks-jobSection">
        <legend>{trans.__('Search space')}</legend>
        {!form.loaded && form.error === null && (
          <p className="jp-Labworks-loading">
            {trans.__('Reading the parameters cell…')}
          </p>
        )}
        {form.rows.length > 0 && (
          <table className="jp-Labworks-sweepSpace">
            <thead>
              <tr>
                <th>{trans.__('Search')}</th>
                <th>{trans.__('Parameter')}</th>
                <th>{trans.__('Type')}</th>
                <th>{trans.__('Range or choices')}</th>
              </tr>
            </thead>
            <tbody>
              {form.rows.map(row => (
                <SpaceRow key={row.name} form={form} row={row} trans={trans} />
              ))}
            </tbody>
          </table>
        )}
      </fieldset>
      <fieldset className="jp-Labworks-jobSection">
        <legend>{trans.__('Objective')}</legend>
        <Field
          name="sweep-metric"
          label={trans.__('Metric')}
          hint={trans.__('The name the notebook logs with mlflow.log_metric')}
        >
          <input
            className="jp-mod-styled"
            value={s.metric}
            placeholder={trans.__('e.g. loss')}
            disabled={disabled}
            onChange={e => form.set('metric', e.target.value)}
          />
        </Field>
        {select('direction', trans.__('Direction'), [
          ['minimize', trans.__('Minimize')],
          ['maximize', trans.__('Maximize')]
        ])}
      </fieldset>
      <fieldset className="jp-Labworks-jobSection">
        <legend>{trans.__('Trials')}</legend>
        {select<Sampler>(
          'sampler',
          trans.__('Sampler'),
          SAMPLERS.map(v => [v, samplerLabel(v, trans)])
        )}
        {select<Pruner>(
          'pruner',
          trans.__('Pruner'),
          PRUNERS.map(v => [v, prunerLabel(v, trans)])
        )}
        {number('trials', trans.__('Trials'))}
        {number('parallel', trans.__('Parallel'))}
        <Field name="sweep-max-cost" label={trans.__('Cost cap')}>
          <input
            className="jp-mod-styled"
            type="number"
            min={0}
            step="any"
            placeholder={trans.__('none')}
            title={trans.__(
              'No trial starts once the trials cost this much; the sweep ends, naming the cap.'
            )}
            value={s.maxCost}
            disabled={disabled}
            onChange={e => form.set('maxCost', e.target.value)}
          />
        </Field>
        <ProfileField
          profiles={props.profiles}
          value={s.profile}
          onChange={name => form.set('profile', name)}
          trans={trans}
          disabled={disabled}
        />
        <ProfilePriceField
          prices={props.prices}
          profile={s.profile}
          trans={trans}
        />
        <Estimate form={form} prices={props.prices} trans={trans} />
      </fieldset>
    </form>
  );
}

/**
 * What the whole sweep may cost: the minutes a trial takes are the person's
 * guess (not sent with the sweep), the rest comes from the form.
 */
function Estimate(props: {
  form: SweepForm;
  prices?: IPriceList | null;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { form, prices, trans } = props;
  const [minutes, setMinutes] = useState('30');
  const s = form.settings;
  const price = prices ? profilePrice(prices, s.profile) : undefined;
  if (!prices || price === undefined) {
    return null;
  }
  const estimate = sweepEstimate(
    price,
    Number(s.trials),
    Number(s.parallel),
    Number(minutes)
  );
  const currency = prices.currency;
  return (
    <>
      <Field
        name="sweep-minutes"
        label={trans.__('Minutes a trial takes')}
        hint={trans.__('Your guess, for the estimate only')}
      >
        <input
          className="jp-mod-styled"
          type="number"
          min={1}
          value={minutes}
          onChange={e => setMinutes(e.target.value)}
        />
      </Field>
      <p
        className="jp-Labworks-sweepEstimate"
        data-testid="labworks-sweep-estimate"
        aria-live="polite"
      >
        {estimate === null
          ? trans.__(
              'Give whole numbers of trials and parallel trials, and minutes per trial, for an estimate.'
            )
          : trans.__(
              'About %1 for %2 trials of %3 min each on %4 (%5 a trial); %6 while %7 run at once, for about %8. Retries, pruned trials that stop early and time waiting in a queue are not counted.',
              formatCost(estimate.total, currency),
              s.trials,
              minutes,
              s.profile,
              formatPerHour(price, currency),
              formatPerHour(estimate.perHour, currency),
              Math.min(Number(s.parallel), Number(s.trials)),
              formatDuration(estimate.hours * 3600, trans, 2)
            )}
      </p>
    </>
  );
}

/**
 * One parameter: whether it is searched, its type, and its range or choices.
 */
function SpaceRow(props: {
  form: SweepForm;
  row: ISpaceRow;
  trans: TranslationBundle;
}): JSX.Element {
  const { form, row, trans } = props;
  const error = form.rowErrors[row.name];
  const off = !row.search || form.busy;
  const set = (change: Partial<ISpaceRow>) => form.setRow(row.name, change);
  const bound = (key: 'low' | 'high' | 'step', label: string) => (
    <input
      className="jp-mod-styled jp-Labworks-sweepBound"
      aria-label={trans.__('%1 of %2', label, row.name)}
      value={row[key]}
      placeholder={label}
      disabled={off}
      onChange={e => set({ [key]: e.target.value })}
    />
  );
  return (
    <tr data-testid={`labworks-sweep-param-${row.name}`}>
      <td>
        <input
          type="checkbox"
          aria-label={trans.__('Search %1', row.name)}
          checked={row.search}
          disabled={form.busy}
          onChange={e => set({ search: e.target.checked })}
        />
      </td>
      <td>
        <code>{row.name}</code>
        <span className="jp-Labworks-fieldHint"> {row.paramType}</span>
      </td>
      <td>
        <select
          className="jp-mod-styled"
          aria-label={trans.__('Type of %1', row.name)}
          value={row.type}
          disabled={off}
          onChange={e => set({ type: e.target.value as DimensionType })}
        >
          {DIMENSION_TYPES.map(t => (
            <option key={t} value={t}>
              {t}
            </option>
          ))}
        </select>
      </td>
      <td>
        {row.type === 'categorical' ? (
          <input
            className="jp-mod-styled"
            aria-label={trans.__('Choices of %1', row.name)}
            value={row.choices}
            placeholder={trans.__('a, b, c')}
            disabled={off}
            onChange={e => set({ choices: e.target.value })}
          />
        ) : (
          <span className="jp-Labworks-sweepBounds">
            {bound('low', trans.__('low'))}
            {bound('high', trans.__('high'))}
            {row.type !== 'log-float' && bound('step', trans.__('step'))}
          </span>
        )}
        {error && (
          <span className="jp-Labworks-fieldError" role="alert">
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}

export function samplerLabel(
  sampler: Sampler,
  trans: TranslationBundle
): string {
  switch (sampler) {
    case 'tpe':
      return trans.__('TPE (Bayesian)');
    case 'random':
      return trans.__('Random');
    case 'grid':
      return trans.__('Grid (every combination)');
    case 'cmaes':
      return trans.__('CMA-ES (numeric spaces)');
  }
}

export function prunerLabel(pruner: Pruner, trans: TranslationBundle): string {
  switch (pruner) {
    case 'none':
      return trans.__('None');
    case 'median':
      return trans.__('Median');
    case 'halving':
      return trans.__('Successive halving');
  }
}
