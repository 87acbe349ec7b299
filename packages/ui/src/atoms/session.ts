import { atom } from 'jotai';
import type { User } from '../api/api-types.ts';

/** The signed-in user: `undefined` while `GET /api/auth/me` is pending, `null` when signed out. */
export const userAtom = atom<User | null | undefined>(undefined);
