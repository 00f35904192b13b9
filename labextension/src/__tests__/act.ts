import { dismissDialog } from '@jupyterlab/testutils';
import { act, waitFor } from '@testing-library/react';

/**
 * Lumino renders a ReactWidget from its own message loop, not from a React
 * event, so React warns about every render a test lets happen outside act().
 * These helpers run the usual steps of a widget or dialog test where React
 * expects them: inside act(), or inside waitFor() (which polls with the act
 * environment turned off).
 */

/**
 * Await `work` inside act(): the renders it causes happen inside.
 */
export async function settle<T>(
  work: Promise<T> | (() => Promise<T>)
): Promise<T> {
  let result: T | undefined;
  await act(async () => {
    result = await (typeof work === 'function' ? work() : work);
  });
  return result as T;
}

/**
 * Start something that opens a dialog (inside act()) and wait until it shows.
 *
 * @returns what `start` returned (usually the promise of the dialog's result)
 *   and the dialog's node
 */
export async function openDialog<T>(
  start: () => T
): Promise<{ started: T; dialog: HTMLElement }> {
  let started: T | undefined;
  act(() => {
    started = start();
  });
  const dialog = await waitFor(() => {
    const node = document.querySelector<HTMLElement>('.jp-Dialog');
    expect(node).not.toBeNull();
    return node as HTMLElement;
  });
  return { started: started as T, dialog };
}

/**
 * Close the open dialog with Escape, inside act().
 */
export async function dismiss(): Promise<void> {
  await settle(() => dismissDialog());
}
