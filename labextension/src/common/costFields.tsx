import type { TranslationBundle } from '@jupyterlab/translation';
import React from 'react';

import { formatPerHour, IPriceList, profilePrice } from './cost';
import { Field } from './jobs/fields';

/**
 * What an hour on the chosen profile costs, next to the profile choice of
 * the "Run as job" and Sweep dialogs: "$0.40/h". Nothing when the prices
 * could not be read.
 */
export function ProfilePriceField(props: {
  prices: IPriceList | null | undefined;
  profile: string;
  trans: TranslationBundle;
}): JSX.Element | null {
  const { prices, profile, trans } = props;
  if (!prices) {
    return null;
  }
  const price = profilePrice(prices, profile);
  const listed = prices.profiles.find(p => p.name === profile);
  const hint =
    listed === undefined
      ? trans.__('no price for this profile')
      : listed.computed
        ? trans.__('from what the profile reserves, at the platform’s prices')
        : trans.__('the profile’s own price');
  return (
    <Field name="price" label={trans.__('Price')} hint={hint}>
      <output data-testid="labworks-profile-price">
        {price === undefined ? '—' : formatPerHour(price, prices.currency)}
      </output>
    </Field>
  );
}
