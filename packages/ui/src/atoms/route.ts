import { atom } from 'jotai';

/** The app's pages; anything else shows /create (or the log-in page when signed out). */
export type Page = '/login' | '/signup' | '/create' | '/dashboard' | '/library' | '/settings' | '/admin';

const PAGES: readonly Page[] = [
  '/login',
  '/signup',
  '/create',
  '/dashboard',
  '/library',
  '/settings',
  '/admin',
];

export const pageOf = (pathname: string): Page => PAGES.find((page) => page === pathname) ?? '/create';

/** The current location (path and query), kept in step with the history by `navigateAtom` and popstate. */
export const locationAtom = atom({ pathname: window.location.pathname, search: window.location.search });

/** Goes to a page of the app without reloading. */
export const navigateAtom = atom(null, (_get, set, to: string) => {
  window.history.pushState(null, '', to);
  set(locationAtom, { pathname: window.location.pathname, search: window.location.search });
});
