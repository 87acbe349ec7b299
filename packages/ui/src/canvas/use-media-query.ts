import { useCallback, useSyncExternalStore } from 'react';

/**
 * Phone widths, where the canvas is laid out top to bottom. The same breakpoint as the stylesheet's
 * (`@media (max-width: 720px)`: the panel goes below the canvas), so the two change together.
 */
export const PHONE_QUERY = '(max-width: 720px)';

/** Whether a CSS media query matches, kept up to date as the window changes (false without `matchMedia`). */
export function useMediaQuery(query: string): boolean {
  const subscribe = useCallback(
    (onChange: () => void) => {
      if (typeof window.matchMedia !== 'function') return () => undefined;
      const list = window.matchMedia(query);
      list.addEventListener('change', onChange);
      return () => list.removeEventListener('change', onChange);
    },
    [query],
  );
  const matches = () => typeof window.matchMedia === 'function' && window.matchMedia(query).matches;
  return useSyncExternalStore(subscribe, matches, () => false);
}
