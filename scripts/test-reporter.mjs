// node:test reporter: one line per test with failure details right away. Counts go to the file
// named by FERRITE_TEST_COUNTS after every test, so the runner can print the closing
// `N passed, N failed` line even when --test-force-exit ends the run early, and with them how long
// each file's top-level tests and suites ran (hooks included), which the runner prints.
import { writeFileSync } from 'node:fs';

export default async function* reporter(source) {
  const counts = { passed: 0, failed: 0, skipped: 0, files: {} };
  const save = () => process.env.FERRITE_TEST_COUNTS && writeFileSync(process.env.FERRITE_TEST_COUNTS, JSON.stringify(counts));
  save();
  for await (const ev of source) {
    const d = ev.data;
    if ((ev.type === 'test:pass' || ev.type === 'test:fail') && d.nesting === 0 && d.file) {
      counts.files[d.file] = (counts.files[d.file] ?? 0) + (d.details?.duration_ms ?? 0);
      save();
    }
    if (ev.type === 'test:pass' || ev.type === 'test:fail') {
      const isSuite = d.details?.type === 'suite';
      if (isSuite && ev.type === 'test:pass') continue;
      if (d.skip || d.todo) {
        counts.skipped++;
        save();
        yield `  - ${d.name} (skipped${typeof d.skip === 'string' ? `: ${d.skip}` : ''})\n`;
        continue;
      }
      const ms = d.details?.duration_ms ? ` (${Math.round(d.details.duration_ms)} ms)` : '';
      if (ev.type === 'test:pass') {
        counts.passed++;
        save();
        yield `  ok ${d.name}${ms}\n`;
      } else {
        const err = d.details?.error;
        // a failing suite whose tests failed is already counted through its tests
        if (isSuite && err?.failureType === 'subtestsFailed') continue;
        counts.failed++;
        save();
        const e = err?.cause ?? err;
        yield `  FAIL ${d.name}${ms}${d.file ? ` (${d.file})` : ''}\n${String(e?.stack ?? e?.message ?? e)
          .split('\n')
          .map((l) => `      ${l}`)
          .join('\n')}\n`;
      }
    } else if ((ev.type === 'test:stderr' || ev.type === 'test:stdout') && process.env.FERRITE_TEST_VERBOSE) {
      yield d.message;
    }
  }
}
