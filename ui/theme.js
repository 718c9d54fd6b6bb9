// Runs before first paint (classic script in <head>): applies the stored or system theme so
// the page never flashes the wrong colours. app.js owns the toggle.
(function () {
  var d = document.documentElement, stored = null;
  try { stored = localStorage.getItem('leoflow.theme'); } catch (e) { /* private mode */ }
  var mq = window.matchMedia && window.matchMedia('(prefers-color-scheme: dark)');
  function apply() { d.dataset.theme = stored === 'dark' || stored === 'light' ? stored : (mq && mq.matches ? 'dark' : 'light'); }
  apply();
  if (mq && mq.addEventListener) mq.addEventListener('change', function () { if (!stored) apply(); });
  window.__leoflowTheme = function (t) { stored = t; try { localStorage.setItem('leoflow.theme', t); } catch (e) { /* ignore */ } apply(); };
})();
