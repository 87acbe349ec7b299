import { useSetAtom } from 'jotai';
import { type FormEvent, useId, useState } from 'react';
import { ApiRequestError, messageOf, request } from '../api/api-client.ts';
import { useT } from '../atoms/language.ts';
import { navigateAtom } from '../atoms/route.ts';
import { userAtom } from '../atoms/session.ts';
import { Link } from '../layout/link.tsx';

/** Sign up or log in; the API's errors are shown as it words them, with each invalid field. */
export function AuthPage(props: { readonly mode: '/login' | '/signup' }) {
  const signup = props.mode === '/signup';
  const setUser = useSetAtom(userAtom);
  const navigate = useSetAtom(navigateAtom);
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<{ message: string; issues: readonly string[] } | null>(null);
  const [pending, setPending] = useState(false);
  const emailId = useId();
  const t = useT();
  const passwordId = useId();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setPending(true);
    setError(null);
    try {
      const body = await request('post', signup ? '/api/auth/signup' : '/api/auth/login', {
        body: { email, password },
      });
      setUser(body.user);
      navigate('/create');
    } catch (caught) {
      const issues =
        caught instanceof ApiRequestError && caught.issues.length > 1
          ? caught.issues.map(
              (issue) => `${issue.path === '' ? t('auth.request') : issue.path}: ${issue.message}`,
            )
          : [];
      setError({ message: messageOf(caught), issues });
    } finally {
      setPending(false);
    }
  };

  return (
    <main className="auth">
      <form className="card auth-card" onSubmit={submit} noValidate>
        <h1>{signup ? t('auth.signupTitle') : t('auth.loginTitle')}</h1>
        <label htmlFor={emailId}>{t('auth.email')}</label>
        <input
          id={emailId}
          name="email"
          type="email"
          autoComplete="email"
          required
          value={email}
          onChange={(event) => setEmail(event.target.value)}
        />
        <label htmlFor={passwordId}>{t('auth.password')}</label>
        <input
          id={passwordId}
          name="password"
          type="password"
          autoComplete={signup ? 'new-password' : 'current-password'}
          required
          value={password}
          onChange={(event) => setPassword(event.target.value)}
        />
        {error && (
          <div role="alert" className="alert alert--error">
            <p>{error.message}</p>
            {error.issues.length > 0 && (
              <ul>
                {error.issues.map((issue) => (
                  <li key={issue}>{issue}</li>
                ))}
              </ul>
            )}
          </div>
        )}
        <button type="submit" className="button button--primary" disabled={pending}>
          {pending ? t('auth.wait') : signup ? t('auth.signup') : t('auth.login')}
        </button>
        <p className="auth-switch">
          {signup ? t('auth.haveAccount') : t('auth.new')}
          <Link to={signup ? '/login' : '/signup'}>{signup ? t('auth.login') : t('auth.createAccount')}</Link>
        </p>
      </form>
    </main>
  );
}
