import type { ConsoleConfig, Role, Session } from './config.ts';
import { escapeHtml } from './format.ts';

const KEY = 'margin-guard-dev-session';

/**
 * Local mode's development login: pick a name and a role; the local server signs a token for it. It is
 * for a developer's machine only and says so on screen; on AWS, people sign in with Cognito.
 */
export async function devSession(config: Extract<ConsoleConfig, { auth: 'dev' }>): Promise<Session | null> {
  const saved = sessionStorage.getItem(KEY);
  if (!saved) return null;
  const { token, user, role, expiresAt } = JSON.parse(saved) as {
    token: string;
    user: string;
    role: Role;
    expiresAt?: string;
  };
  // Development tokens expire (the server refuses them after): sign in again.
  if (!expiresAt || Date.parse(expiresAt) <= Date.now()) {
    sessionStorage.removeItem(KEY);
    return null;
  }
  return {
    user,
    role,
    authorize: async () => ({ authorization: `Bearer ${token}` }),
    webSocketUrl: async () => {
      const url = new URL(config.webSocketUrl, location.href);
      url.protocol = url.protocol === 'https:' ? 'wss:' : url.protocol === 'http:' ? 'ws:' : url.protocol;
      url.searchParams.set('token', token);
      return url.toString();
    },
    signOut: () => {
      sessionStorage.removeItem(KEY);
      location.reload();
    },
  };
}

export function renderDevLogin(root: HTMLElement): void {
  root.innerHTML = `
    <section class="login panel">
      <h1>Sign in</h1>
      <p class="dev"><strong>Development login (local mode only).</strong> Anyone on this machine can pick any
      role. On AWS the console signs in through Cognito and the viewer/operator groups.</p>
      <form id="dev-login" class="inline">
        <label>Name <input name="user" value="alice" required pattern="[A-Za-z0-9._\\-]{1,40}" /></label>
        <label>Role
          <select name="role"><option value="operator">operator</option><option value="viewer">viewer</option></select>
        </label>
        <button class="primary" type="submit">Sign in</button>
      </form>
      <div id="login-error"></div>
    </section>`;
  root.querySelector<HTMLFormElement>('#dev-login')!.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const form = new FormData(ev.target as HTMLFormElement);
    const res = await fetch('/dev/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: form.get('user'), role: form.get('role') }),
    });
    const body = await res.json();
    if (!res.ok) {
      root.querySelector('#login-error')!.innerHTML =
        `<p class="notice error">${escapeHtml(body.message ?? 'sign-in failed')}</p>`;
      return;
    }
    sessionStorage.setItem(KEY, JSON.stringify(body));
    location.reload();
  });
}
