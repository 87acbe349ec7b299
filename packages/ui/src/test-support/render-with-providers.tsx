import { type RenderResult, render } from '@testing-library/react';
import userEvent, { type UserEvent } from '@testing-library/user-event';
import { ReactFlowProvider } from '@xyflow/react';
import { createStore, Provider } from 'jotai';
import type { ReactElement } from 'react';
import { languageAtom } from '../atoms/language.ts';
import type { Language } from '../i18n/translate.ts';

/** A jotai store, as `createStore` makes it. */
export type TestStore = ReturnType<typeof createStore>;

/** How {@link renderWithProviders} renders. */
export interface RenderWithProvidersOptions {
  /** The store to render with (atoms set before or after the render); a fresh one by default. */
  readonly store?: TestStore;
  /** The app's language (English by default, whatever the test browser says). */
  readonly language?: Language;
  /** Wraps the element in a `ReactFlowProvider` (canvas components). */
  readonly flow?: boolean;
  /** Options for `userEvent.setup` (e.g. `advanceTimers` under fake timers). */
  readonly user?: Parameters<typeof userEvent.setup>[0];
}

/** What {@link renderWithProviders} gives back: the render result, its store and a user. */
export interface RenderedWithProviders extends RenderResult {
  readonly store: TestStore;
  readonly user: UserEvent;
}

/**
 * Renders a component of the app inside a jotai `Provider` with its own store (no state leaks
 * between tests), the language set, and optionally a `ReactFlowProvider`.
 *
 * @example
 * ```tsx
 * const { store, user } = renderWithProviders(<KeysCard />);
 * await user.click(screen.getByRole('button', { name: 'Show key' }));
 * ```
 */
export function renderWithProviders(
  element: ReactElement,
  options: RenderWithProvidersOptions = {},
): RenderedWithProviders {
  const store = options.store ?? createStore();
  store.set(languageAtom, options.language ?? 'en');
  const user = userEvent.setup(options.user);
  const inner = options.flow === true ? <ReactFlowProvider>{element}</ReactFlowProvider> : element;
  const result = render(<Provider store={store}>{inner}</Provider>);
  return { ...result, store, user };
}
