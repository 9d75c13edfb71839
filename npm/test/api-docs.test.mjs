// Keeps the API reference in npm/README.md in sync with the published types (npm/dist/*.d.ts):
// every export is named, and each reference table lists exactly the members of its type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import ts from 'typescript';

const DIST = new URL('../dist/', import.meta.url);
const README = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

const program = ts.createProgram([new URL('index.d.ts', DIST).pathname], { strict: true, skipLibCheck: true });
const checker = program.getTypeChecker();
const index = checker.getSymbolAtLocation(program.getSourceFile(new URL('index.d.ts', DIST).pathname));
const exported = new Map(checker.getExportsOfModule(index).map((s) => [s.name, s]));

/** Members of an exported interface or type (intersections flattened). */
function members(name) {
  const symbol = exported.get(name);
  assert.ok(symbol, `${name} is exported`);
  const type = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(symbol));
  return checker.getPropertiesOfType(type).map((p) => p.name).sort();
}

/** The first-column names of the README table whose header starts with `| header |`. */
function documented(header) {
  const lines = README.split('\n');
  const start = lines.findIndex((l) => l.startsWith(`| ${header} |`));
  assert.ok(start >= 0, `README has a '${header}' table`);
  const names = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const first = line.split(/(?<!\\)\|/)[1];
    for (const [, code] of first.matchAll(/`([^`]+)`/g)) names.push(code.match(/^[A-Za-z]+/)[0]);
  }
  return [...new Set(names)].sort();
}

test('every export of the package is named in the README', () => {
  for (const name of exported.keys()) assert.ok(README.includes(`\`${name}\``) || README.includes(`\`${name}(`), `${name} is documented`);
});

test('the option, method, setting and result tables list exactly the types\' members', () => {
  assert.deepEqual(documented('option'), members('FineTunerOptions'));
  assert.deepEqual(documented('member'), members('FineTuner'));
  assert.deepEqual(documented('setting'), members('TrainSettings'));
  assert.deepEqual(documented('field'), members('TrainResult'));
  assert.deepEqual(documented('speech member'), members('SpeechFineTuner'));
});

test('the events table lists exactly the event types and their fields', () => {
  const alias = checker.getAliasedSymbol(exported.get('FineTunerEvent'));
  const union = checker.getDeclaredTypeOfSymbol(alias);
  const events = new Map(union.types.map((t) => {
    const kind = checker.getTypeOfSymbol(t.getProperty('type'));
    return [kind.value, checker.getPropertiesOfType(t).map((p) => p.name).filter((n) => n !== 'type')];
  }));
  assert.deepEqual(documented('type'), [...events.keys()].sort());
  const rows = README.split("\n").filter((l) => /^\| `[A-Za-z]+` \|/.test(l));
  for (const [type, fields] of events) {
    const row = rows.find((l) => l.startsWith(`| \`${type}\` |`));
    const cell = row.split(/(?<!\\)\|/)[2];
    // A row names each field, or the report type whose fields they are.
    const named = cell.includes('EpochReport') || cell.includes('TrainReport') || cell.includes('SpeechReport');
    for (const field of fields) assert.ok(named || cell.includes(`\`${field}\``), `event ${type}: field ${field} documented`);
  }
});
