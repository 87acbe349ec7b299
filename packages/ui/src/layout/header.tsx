import { useAtom } from 'jotai';
import { api } from '../api/api-client.ts';
import { userAtom } from '../atoms/session.ts';
import { Link } from '../layout/link.tsx';

/** The top bar: the pages and the signed-in account. */
export function Header() {
  const [user, setUser] = useAtom(userAtom);
  return (
    <header className="header">
      <span className="brand">VidGenie</span>
      <nav aria-label="Main">
        <Link to="/create">Create</Link>
        <Link to="/settings">Settings</Link>
      </nav>
      <span className="header-user">{user?.email}</span>
      <button
        type="button"
        className="button button--ghost"
        onClick={() => {
          void api('POST', '/api/auth/logout').finally(() => setUser(null));
        }}
      >
        Log out
      </button>
    </header>
  );
}
