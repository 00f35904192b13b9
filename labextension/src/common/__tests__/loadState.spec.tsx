import { render, screen } from '@testing-library/react';
import React from 'react';

import { ErrorAlert, LoadState } from '../loadState';

describe('LoadState', () => {
  it('says it is loading until the first answer', () => {
    const { rerender } = render(
      <LoadState model={{ error: null, loaded: false }} loading="Loading…" />
    );
    expect(screen.getByText('Loading…')).toBeTruthy();
    expect(screen.queryByRole('alert')).toBeNull();
    rerender(
      <LoadState model={{ error: null, loaded: true }} loading="Loading…" />
    );
    expect(screen.queryByText('Loading…')).toBeNull();
  });

  it('shows the error as an alert instead of loading', () => {
    render(
      <LoadState
        model={{ error: 'The platform did not answer', loaded: false }}
        loading="Loading…"
        errorTestId="the-error"
      />
    );
    const alert = screen.getByRole('alert');
    expect(alert.textContent).toBe('The platform did not answer');
    expect(alert.dataset.testid).toBe('the-error');
    expect(screen.queryByText('Loading…')).toBeNull();
  });
});

describe('ErrorAlert', () => {
  it('renders nothing without an error', () => {
    const { container } = render(<ErrorAlert error={null} />);
    expect(container.innerHTML).toBe('');
  });
});
