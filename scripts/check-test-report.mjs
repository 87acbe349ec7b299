// Reads Vitest's JSON report and fails when any test was skipped, marked todo or never ran, so a
// silently skipped test cannot pass CI. Prints one closing line: "tests: N passed, N failed".
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.vitest-report.json';
const report = JSON.parse(readFileSync(file, 'utf8'));
const skipped = [];
for (const suite of report.testResults ?? []) {
  for (const test of suite.assertionResults ?? []) {
    if (test.status !== 'passed' && test.status !== 'failed')
      skipped.push(`${suite.name}: ${test.fullName} (${test.status})`);
  }
}
const passed = report.numPassedTests ?? 0;
const failed = report.numFailedTests ?? 0;
if (skipped.length > 0) {
  console.error(`${skipped.length} test(s) did not run; CI runs every test:`);
  for (const line of skipped) console.error(`  - ${line}`);
}
if (passed === 0) console.error('No test ran.');
console.log(
  `tests: ${passed} passed, ${failed} failed${skipped.length > 0 ? `, ${skipped.length} skipped` : ''}`,
);
process.exit(failed > 0 || skipped.length > 0 || passed === 0 || report.success === false ? 1 : 0);
