// A strict reader of the Prometheus text exposition format 0.0.4, written from the format's
// description (not from our renderer): every line must be a HELP, a TYPE or a sample; every
// sample must belong to a family with a TYPE; label values are unescaped (\\, \", \n).
import assert from 'node:assert/strict';

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

function parseValue(text) {
  if (text === '+Inf') return Infinity;
  if (text === '-Inf') return -Infinity;
  if (text === 'NaN') return NaN;
  assert.match(text, /^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/, `a sample value: ${text}`);
  return Number(text);
}

/** Parses `text`; returns { families: Map(name -> {type, help}), samples: [{name, labels, value}] }. */
export function parseExposition(text) {
  const families = new Map();
  const samples = [];
  const family = (name) => {
    if (!families.has(name)) families.set(name, {});
    return families.get(name);
  };
  const lines = text.split('\n');
  assert.equal(lines.at(-1), '', 'the text ends with a newline');
  for (const line of lines.slice(0, -1)) {
    if (line.startsWith('# HELP ') || line.startsWith('# TYPE ')) {
      const rest = line.slice(7);
      const sp = rest.indexOf(' ');
      const name = rest.slice(0, sp);
      assert.match(name, NAME, `metric name in: ${line}`);
      if (line[2] === 'H') {
        family(name).help = rest.slice(sp + 1).replace(/\\(\\|n)/g, (_, c) => (c === 'n' ? '\n' : '\\'));
      } else {
        const type = rest.slice(sp + 1);
        assert.ok(['counter', 'gauge', 'histogram', 'summary', 'untyped'].includes(type), `type in: ${line}`);
        assert.equal(family(name).type, undefined, `one TYPE line for ${name}`);
        assert.ok(!samples.some((s) => s.family === name), `TYPE of ${name} before its samples`);
        family(name).type = type;
      }
      continue;
    }
    assert.ok(!line.startsWith('#'), `no other comment lines: ${line}`);
    let i = 0;
    while (i < line.length && line[i] !== '{' && line[i] !== ' ') i += 1;
    const name = line.slice(0, i);
    assert.match(name, NAME, `sample name in: ${line}`);
    const labels = {};
    if (line[i] === '{') {
      i += 1;
      while (line[i] !== '}') {
        const eq = line.indexOf('=', i);
        const label = line.slice(i, eq);
        assert.match(label, LABEL, `label name in: ${line}`);
        assert.equal(line[eq + 1], '"', `quoted label value in: ${line}`);
        i = eq + 2;
        let value = '';
        while (line[i] !== '"') {
          assert.ok(i < line.length, `unterminated label value in: ${line}`);
          if (line[i] === '\\') {
            i += 1;
            assert.ok(['\\', '"', 'n'].includes(line[i]), `escape in: ${line}`);
            value += line[i] === 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
          i += 1;
        }
        assert.equal(labels[label], undefined, `label ${label} once in: ${line}`);
        labels[label] = value;
        i += 1;
        if (line[i] === ',') i += 1;
      }
      i += 1;
    }
    assert.equal(line[i], ' ', `a space before the value in: ${line}`);
    const value = parseValue(line.slice(i + 1));
    // The family: the name itself, or a histogram's name_bucket / _sum / _count.
    const base = families.has(name) ? name : name.replace(/_(bucket|sum|count)$/, '');
    assert.ok(families.get(base)?.type, `${name} belongs to a family with a TYPE`);
    if (base !== name) assert.equal(families.get(base).type, 'histogram', `${name} is a histogram's`);
    samples.push({ name, family: base, labels, value });
  }
  return { families, samples };
}

const sameLabels = (a, b) => Object.keys(a).length === Object.keys(b).length &&
  Object.entries(b).every(([k, v]) => a[k] === v);

/** The value of the sample `name` with exactly `labels`, or undefined. */
export function valueOf(parsed, name, labels = {}) {
  return parsed.samples.find((s) => s.name === name && sameLabels(s.labels, labels))?.value;
}

/**
 * Checks every histogram series: buckets cumulative (never decreasing with le), a +Inf bucket
 * equal to _count, and a _sum. Returns how many series it checked.
 */
export function checkHistograms(parsed) {
  let checked = 0;
  for (const [name, f] of parsed.families) {
    if (f.type !== 'histogram') continue;
    const series = new Map();
    for (const s of parsed.samples.filter((x) => x.family === name)) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(Object.entries(rest).sort());
      if (!series.has(key)) series.set(key, { buckets: [], labels: rest });
      const e = series.get(key);
      if (s.name === `${name}_bucket`) e.buckets.push([parseValue(le), s.value]);
      if (s.name === `${name}_count`) e.count = s.value;
      if (s.name === `${name}_sum`) e.sum = s.value;
    }
    for (const [key, e] of series) {
      assert.ok(e.buckets.length > 0, `${name}${key}: buckets`);
      const sorted = [...e.buckets].sort((a, b) => a[0] - b[0]);
      assert.equal(sorted.at(-1)[0], Infinity, `${name}${key}: a +Inf bucket`);
      for (let i = 1; i < sorted.length; i += 1) {
        assert.ok(sorted[i][1] >= sorted[i - 1][1], `${name}${key}: cumulative buckets`);
      }
      assert.equal(sorted.at(-1)[1], e.count, `${name}${key}: +Inf bucket == _count`);
      assert.ok(Number.isFinite(e.sum), `${name}${key}: a _sum`);
      checked += 1;
    }
  }
  return checked;
}
