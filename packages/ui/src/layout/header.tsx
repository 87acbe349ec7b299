import { useAtom } from 'jotai';
import { useId } from 'react';
import { request } from '../api/api-client.ts';
import { languageAtom, useT } from '../atoms/language.ts';
import { userAtom } from '../atoms/session.ts';
import { isLanguage } from '../i18n/translate.ts';
import { Link } from '../layout/link.tsx';

/** The top bar: the pages, the language and the signed-in account. */
export function Header() {
  const [user, setUser] = useAtom(userAtom);
  const [language, setLanguage] = useAtom(languageAtom);
  const t = useT();
  const languageId = useId();
  return (
    <header className="header">
      <span className="brand">VidGenie</span>
      <nav aria-label={t('nav.main')}>
        <Link to="/create">{t('nav.create')}</Link>
        <Link to="/dashboard">{t('nav.dashboard')}</Link>
        <Link to="/library">{t('nav.library')}</Link>
        <Link to="/settings">{t('nav.settings')}</Link>
      </nav>
      <span className="header-user">{user?.email}</span>
      {user?.role === 'admin' && (
        <Link to="/admin" className="header-admin">
          {t('nav.admin')}
        </Link>
      )}
      <label htmlFor={languageId} className="visually-hidden">
        {t('nav.language')}
      </label>
      <select
        id={languageId}
        className="header-language"
        value={language}
        onChange={(event) => {
          if (isLanguage(event.target.value)) setLanguage(event.target.value);
        }}
      >
        <option value="en" lang="en">
          English
        </option>
        <option value="fr" lang="fr">
          Français
        </option>
      </select>
      <button
        type="button"
        className="button button--ghost"
        onClick={() => {
          void request('post', '/api/auth/logout').finally(() => setUser(null));
        }}
      >
        {t('nav.logout')}
      </button>
    </header>
  );
}
