// node:test reporter: one line per test, failure details, and the closing `N passed, N failed`.
export default async function* reporter(source) {
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  const failures = [];
  for await (const ev of source) {
    const d = ev.data;
    if (ev.type === 'test:pass' || ev.type === 'test:fail') {
      const isSuite = d.details?.type === 'suite';
      if (isSuite && ev.type === 'test:pass') continue;
      if (d.skip || d.todo) {
        skipped++;
        yield `  - ${d.name} (skipped${typeof d.skip === 'string' ? `: ${d.skip}` : ''})\n`;
        continue;
      }
      const ms = d.details?.duration_ms ? ` (${Math.round(d.details.duration_ms)} ms)` : '';
      if (ev.type === 'test:pass') {
        passed++;
        yield `  ok ${d.name}${ms}\n`;
      } else {
        // a failing suite whose tests failed is already counted through its tests
        const err = d.details?.error;
        if (isSuite && err?.failureType === 'subtestsFailed') continue;
        failed++;
        failures.push({ name: d.name, file: d.file, err });
        yield `  FAIL ${d.name}${ms}\n`;
      }
    } else if (ev.type === 'test:stderr' || ev.type === 'test:stdout') {
      if (process.env.FERRITE_TEST_VERBOSE) yield d.message;
    }
  }
  for (const f of failures) {
    const e = f.err?.cause ?? f.err;
    yield `\n--- ${f.name}${f.file ? ` (${f.file})` : ''}\n${e?.stack ?? e?.message ?? String(e)}\n`;
  }
  yield `\n${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`;
}
