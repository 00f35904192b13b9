import type { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import React, { useState } from 'react';

import { formatCost } from '../../common/cost';
import { CostModel, parseBudget } from './model';
import type { BudgetScope, IBudget } from './types';

/**
 * How far a budget is used: `over` at 100% and beyond, `warn` once a
 * threshold is passed, `ok` before.
 */
export function budgetLevel(budget: IBudget): 'ok' | 'warn' | 'over' {
  if (budget.percent >= 100) {
    return 'over';
  }
  return budget.thresholds.some(t => budget.percent >= t) ? 'warn' : 'ok';
}

/**
 * Where a percentage sits on a budget's bar, in percent of its width: the
 * bar spans 100% of the budget, or its highest threshold or use if more.
 */
export function barPosition(budget: IBudget, percent: number): number {
  const scale = Math.max(100, budget.percent, ...budget.thresholds);
  return Math.min(100, (Math.max(0, percent) / scale) * 100);
}

interface IBudgetsProps {
  model: CostModel;
  currency: string;
  trans: TranslationBundle;
}

/**
 * The budgets the person may see, each a bar with its thresholds marked;
 * administrators may remove them and set any user's or group's.
 */
export function Budgets(props: IBudgetsProps): JSX.Element {
  const { model, trans } = props;
  return (
    <section aria-label={trans.__('Budgets')}>
      <h3 className="jp-Labworks-sectionTitle">{trans.__('Budgets')}</h3>
      {model.budgets.length === 0 && (
        <p className="jp-Labworks-hint">
          {model.admin
            ? trans.__('No budgets yet: set one below.')
            : trans.__(
                'You and your groups have no budget. An administrator sets budgets.'
              )}
        </p>
      )}
      {model.budgets.map(budget => (
        <BudgetBar
          key={`${budget.scope}/${budget.name}`}
          {...props}
          budget={budget}
        />
      ))}
      {model.admin && <BudgetForm {...props} />}
    </section>
  );
}

function BudgetBar(props: IBudgetsProps & { budget: IBudget }): JSX.Element {
  const { budget, model, currency, trans } = props;
  const level = budgetLevel(budget);
  return (
    <div
      className="jp-Labworks-budget"
      data-testid={`labworks-budget-${budget.scope}-${budget.name}`}
    >
      <div className="jp-Labworks-budgetHead">
        <span>
          <span className="jp-Labworks-fieldHint">{budget.scope}</span>{' '}
          <strong>{budget.name}</strong>
        </span>
        <span>
          {trans.__(
            '%1 of %2 (%3%)',
            formatCost(budget.spent_usd, currency),
            formatCost(budget.monthly_usd, currency),
            Math.round(budget.percent)
          )}
        </span>
        {model.admin && (
          <Button
            small
            minimal
            title={trans.__(
              'Remove the budget of %1 %2',
              budget.scope,
              budget.name
            )}
            disabled={model.busy}
            onClick={() => void model.removeBudget(budget)}
          >
            {trans.__('Remove')}
          </Button>
        )}
      </div>
      <div
        className="jp-Labworks-budgetBar"
        role="meter"
        aria-label={trans.__('Budget of %1 %2 used', budget.scope, budget.name)}
        aria-valuemin={0}
        aria-valuemax={100}
        aria-valuenow={Math.round(budget.percent)}
        title={trans.__(
          'Alerts at %1',
          budget.thresholds.map(t => `${t}%`).join(', ')
        )}
      >
        <div
          className={`jp-Labworks-budgetFill jp-mod-${level}`}
          style={{ width: `${barPosition(budget, budget.percent)}%` }}
        />
        {budget.thresholds.map(t => (
          <div
            key={t}
            className="jp-Labworks-budgetMark"
            data-threshold={t}
            style={{ left: `${barPosition(budget, t)}%` }}
          />
        ))}
      </div>
    </div>
  );
}

/**
 * The administrators' form: set a user's or group's monthly budget and its
 * alert thresholds. What the platform refuses is shown under it.
 */
function BudgetForm(props: IBudgetsProps): JSX.Element {
  const { model, trans } = props;
  const [scope, setScope] = useState<BudgetScope>('user');
  const [name, setName] = useState('');
  const [monthly, setMonthly] = useState('');
  const [thresholds, setThresholds] = useState('50, 80, 100');
  const submit = async () => {
    const fields = { scope, name, monthly, thresholds };
    if (await model.setBudget(parseBudget(fields, trans))) {
      setName('');
      setMonthly('');
    }
  };
  return (
    <form
      className="jp-Labworks-budgetForm"
      aria-label={trans.__('Set a budget')}
      onSubmit={event => {
        event.preventDefault();
        void submit();
      }}
    >
      <select
        aria-label={trans.__('Budget for')}
        value={scope}
        onChange={event => setScope(event.target.value as BudgetScope)}
      >
        <option value="user">{trans.__('user')}</option>
        <option value="group">{trans.__('group')}</option>
      </select>
      <input
        aria-label={trans.__('Name')}
        placeholder={trans.__('name')}
        value={name}
        onChange={event => setName(event.target.value)}
      />
      <input
        aria-label={trans.__('Monthly budget')}
        placeholder={trans.__('monthly')}
        inputMode="decimal"
        value={monthly}
        onChange={event => setMonthly(event.target.value)}
      />
      <input
        aria-label={trans.__('Alert thresholds (%)')}
        title={trans.__('Percentages of the budget at which alerts fire')}
        value={thresholds}
        onChange={event => setThresholds(event.target.value)}
      />
      <Button type="submit" small disabled={model.busy}>
        {trans.__('Set budget')}
      </Button>
      {model.budgetError !== null && (
        <p className="jp-Labworks-errorText" role="alert">
          {model.budgetError}
        </p>
      )}
    </form>
  );
}
