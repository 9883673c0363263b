// The closing line of scripts/test.sh, from vitest's JSON report: "N passed, N failed[, N skipped]". A test
// file that fails to load (a syntax error, a throwing import or beforeAll) has no failed test in it, only a
// failed suite: each such file counts as one failure, and is named above the line.
import { readFileSync } from 'node:fs';

const report = JSON.parse(readFileSync(process.argv[2], 'utf8'));
const broken = report.testResults.filter(
  (file) => file.status === 'failed' && !file.assertionResults.some((a) => a.status === 'failed'),
);
for (const file of broken) console.log(`failed to run: ${file.name}: ${(file.message || '').split('\n')[0]}`);
const failed = report.numFailedTests + broken.length;
const skipped = report.numPendingTests + report.numTodoTests;
console.log(`${report.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`);
