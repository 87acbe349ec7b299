import { atom } from 'jotai';
import type { Content, Template } from '../api/api-types.ts';

/** The pages of the content library read so far, and the cursor of the next one. */
export interface LibraryState {
  readonly contents: readonly Content[];
  readonly nextCursor: string | null;
}

/** The content library (`GET /api/contents`, cursor pages); null until the first page. */
export const libraryAtom = atom<LibraryState | null>(null);

/** Drops one content (after `DELETE /api/contents/{id}`). */
export const removeContentAtom = atom(null, (get, set, contentId: string) => {
  const library = get(libraryAtom);
  if (library === null) return;
  set(libraryAtom, { ...library, contents: library.contents.filter((content) => content.id !== contentId) });
});

/** The user's templates (`GET /api/templates`), the built-in one first. */
export const templatesAtom = atom<readonly Template[] | null>(null);
