// /login: posts {username, password} to /auth/token, stores the token in the `_token` cookie,
// then goes to ?next= (same-origin paths only).

import { api, setToken } from '../api.js';
import { esc } from '../dom.js';

function safeNext(q) {
  const n = q.get('next') || '/dags';
  return n.startsWith('/') && !n.startsWith('//') && !n.startsWith('/login') ? n : '/dags';
}

export function mount(root, route, ctx) {
  ctx.setTitle('Sign in');
  root.innerHTML = `<form class="card login form" data-testid="login-form" novalidate>
    <h1>Sign in to Leoflow</h1>
    <div class="field"><label for="lu">Username</label><input id="lu" name="username" autocomplete="username" required data-testid="login-username" autofocus></div>
    <div class="field"><label for="lp">Password</label><input id="lp" name="password" type="password" autocomplete="current-password" required data-testid="login-password"></div>
    <div class="form-error" role="alert" data-testid="login-error" hidden></div>
    <button class="btn btn-primary" type="submit" data-testid="login-submit">Sign in</button>
  </form>`;
  const form = root.querySelector('form');
  const err = root.querySelector('.form-error');
  form.elements.username.focus();
  form.addEventListener('submit', async e => {
    e.preventDefault();
    const username = form.elements.username.value.trim();
    const password = form.elements.password.value;
    if (!username || !password) {
      err.textContent = 'Enter your username and password.';
      err.hidden = false;
      (username ? form.elements.password : form.elements.username).focus();
      return;
    }
    const btn = form.querySelector('button');
    btn.disabled = true;
    err.hidden = true;
    try {
      const res = await api('/auth/token', { method: 'POST', body: { username, password }, auth: false });
      if (!res || !res.access_token) throw new Error('The server did not return a token.');
      setToken(res.access_token);
      ctx.navigate(safeNext(route.query), { replace: true });
    } catch (ex) {
      err.innerHTML = ex.status === 401 || ex.status === 403 ? 'Invalid username or password.' : esc(ex.message);
      err.hidden = false;
      btn.disabled = false;
      form.elements.password.select();
    }
  });
  return {};
}
