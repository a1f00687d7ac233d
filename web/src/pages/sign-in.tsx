/**
 * Sign in as a demo user with a dev token from the gateway (`GET /dev/token`, outside
 * production), as anyone with a chosen role, or by pasting a token.
 */
import { type FormEvent, useState } from 'react';
import { DEMO_USERS, fetchDevToken, type Role, type Session, sessionOf } from '../session.ts';

export const SignInPage = ({ onSignedIn }: { onSignedIn: (session: Session) => void }) => {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | undefined>();
  const [name, setName] = useState('');
  const [role, setRole] = useState<Role>('customer');
  const [pasted, setPasted] = useState('');

  const attempt = async (obtain: () => Promise<Session> | Session) => {
    setBusy(true);
    setError(undefined);
    try {
      onSignedIn(await obtain());
    } catch (caught) {
      setError((caught as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const custom = (event: FormEvent) => {
    event.preventDefault();
    void attempt(() => fetchDevToken(name.trim(), role));
  };
  const paste = (event: FormEvent) => {
    event.preventDefault();
    void attempt(() => sessionOf(pasted));
  };

  return (
    <main className="sign-in">
      <h1>Magasin</h1>
      <p className="lead">
        A demo store whose every order runs a saga across inventory, payment and the sales ledger.
      </p>
      <section className="panel">
        <h2>Sign in as a demo user</h2>
        <div className="demo-users">
          {DEMO_USERS.map((user) => (
            <button
              key={user.sub}
              type="button"
              disabled={busy}
              data-testid={`sign-in-${user.sub}`}
              onClick={() => void attempt(() => fetchDevToken(user.sub, user.role))}
            >
              {user.label}
            </button>
          ))}
        </div>
        <form onSubmit={custom} className="inline-form">
          <label>
            Name{' '}
            <input
              value={name}
              onChange={(event) => setName(event.target.value)}
              placeholder="carol"
              required
            />
          </label>
          <label>
            Role{' '}
            <select value={role} onChange={(event) => setRole(event.target.value as Role)}>
              <option value="customer">customer</option>
              <option value="admin">admin</option>
              <option value="auditor">auditor</option>
            </select>
          </label>
          <button type="submit" disabled={busy || !name.trim()}>
            Sign in
          </button>
        </form>
        <p className="hint">Dev tokens come from this gateway and only outside production.</p>
      </section>
      <section className="panel">
        <h2>Or paste a token</h2>
        <form onSubmit={paste} className="inline-form">
          <input
            className="grow"
            value={pasted}
            onChange={(event) => setPasted(event.target.value)}
            placeholder="eyJhbGciOi… (npm run token -- --sub alice --role customer)"
          />
          <button type="submit" disabled={busy || !pasted.trim()}>
            Use token
          </button>
        </form>
      </section>
      {error && (
        <p className="notice error" role="alert" data-testid="error">
          Cannot sign in: {error}
        </p>
      )}
    </main>
  );
};
