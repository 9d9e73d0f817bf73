// Loaded before the suite (node --import, by test/run.mjs). uvu prints a failed test's `details`
// as text, and dies on any other kind: an MdfanError carries its facts as an object there, so a
// test that threw one was never named, and the rest of its file never ran. This hook makes uvu
// print such facts as JSON. If uvu's source changes so the fix no longer applies, it says so.
import { register } from 'node:module';

register(
  'data:text/javascript,' +
    encodeURIComponent(`
const FROM = "details.split('\\\\n')";
const TO = "(typeof details === 'string' ? details : JSON.stringify(details)).split('\\\\n')";
export async function load(url, context, next) {
  const r = await next(url, context);
  if (!url.endsWith('/uvu/dist/index.mjs')) return r;
  const src = String(r.source);
  if (!src.includes(FROM)) {
    process.stderr.write('test/uvu-details.mjs: uvu no longer formats details as expected: a test that throws an MdfanError may go unnamed\\n');
    return r;
  }
  return { ...r, source: src.replace(FROM, TO) };
}
`),
);
