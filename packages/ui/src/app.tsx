import { useAtom, useAtomValue, useSetAtom } from 'jotai';
import { useEffect } from 'react';
import { request } from './api/api-client.ts';
import { languageAtom, useT } from './atoms/language.ts';
import { locationAtom, navigateAtom, pageOf } from './atoms/route.ts';
import { userAtom } from './atoms/session.ts';
import { Header } from './layout/header.tsx';
import { AdminPage } from './pages/admin-page.tsx';
import { AuthPage } from './pages/auth-page.tsx';
import { CreatePage } from './pages/create-page.tsx';
import { DashboardPage } from './pages/dashboard-page.tsx';
import { LibraryPage } from './pages/library-page.tsx';
import { SettingsPage } from './pages/settings-page.tsx';

/** The app: asks who is signed in, then shows the page the address names. */
export function App() {
  const [user, setUser] = useAtom(userAtom);
  const [location, setLocation] = useAtom(locationAtom);
  const navigate = useSetAtom(navigateAtom);
  const page = pageOf(location.pathname);
  const language = useAtomValue(languageAtom);
  const t = useT();

  useEffect(() => {
    document.documentElement.lang = language;
  }, [language]);

  useEffect(() => {
    const onPop = () => setLocation({ pathname: window.location.pathname, search: window.location.search });
    window.addEventListener('popstate', onPop);
    return () => window.removeEventListener('popstate', onPop);
  }, [setLocation]);

  useEffect(() => {
    request('get', '/api/auth/me').then(
      (body) => setUser(body.user),
      () => setUser(null),
    );
  }, [setUser]);

  const signedOutPage = page === '/signup' ? '/signup' : '/login';
  useEffect(() => {
    if (user === null && page !== '/login' && page !== '/signup') navigate('/login');
    if (user && (page === '/login' || page === '/signup')) navigate('/create');
  }, [user, page, navigate]);

  if (user === undefined) return <p className="loading">{t('app.loading')}</p>;
  if (user === null) return <AuthPage mode={signedOutPage} />;
  return (
    <div className="app">
      <Header />
      <main className="app-main">
        {page === '/settings' ? (
          <SettingsPage />
        ) : page === '/dashboard' ? (
          <DashboardPage />
        ) : page === '/library' ? (
          <LibraryPage />
        ) : page === '/admin' ? (
          <AdminPage />
        ) : (
          <CreatePage />
        )}
      </main>
    </div>
  );
}
