// What the operations tests need to read deployment files the way the services read their
// configuration: TOML and YAML parsed by Debian's Python (tomllib, python3-yaml), flattened to
// dotted keys exactly like libs/common/src/config.cpp does, with IDP_* environment overrides.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Debian's interpreter (tomllib is in 3.11; python3-yaml is a Debian package), not whatever
// python3 comes first on PATH.
const PYTHON = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';

function python(code, input) {
  return JSON.parse(execFileSync(PYTHON, ['-c', code], { input, maxBuffer: 64 << 20 }).toString());
}

/** Every YAML document of `text` (python3-yaml's safe_load_all), as plain JSON values. */
export function parseYamlAll(text) {
  return python(`import json, sys, yaml
print(json.dumps([d for d in yaml.safe_load_all(sys.stdin.read()) if d is not None], default=str))`, text);
}

/**
 * A TOML text flattened as the services flatten it (Config::Flatten): dotted keys; strings
 * as they are, integers in decimal, booleans "true"/"false", arrays of strings comma-joined.
 */
export function parseTomlFlat(text) {
  const tree = python(`import json, sys, tomllib
print(json.dumps(tomllib.loads(sys.stdin.read())))`, text);
  const out = new Map();
  const walk = (node, prefix) => {
    for (const [k, v] of Object.entries(node)) {
      const key = prefix ? `${prefix}.${k}` : k;
      if (v !== null && typeof v === 'object' && !Array.isArray(v)) walk(v, key);
      else if (Array.isArray(v)) out.set(key, v.filter((e) => typeof e === 'string').join(','));
      else out.set(key, typeof v === 'boolean' ? (v ? 'true' : 'false') : String(v));
    }
  };
  walk(tree, '');
  return out;
}

/** The environment variable of a key (Config::EnvName): IDP_ + upper case, '.'/'-' as '_'. */
export function envName(key) {
  return `IDP_${key.replace(/[.-]/g, '_').toUpperCase()}`;
}

/** The gateway's upstream defaults (services/gateway/src/app.cpp): `gateway.X` else `X.listen`. */
const DERIVED = {
  'gateway.auth': 'auth.listen',
  'gateway.mfa': 'mfa.listen',
  'gateway.delivery': 'delivery.listen',
  'gateway.token': 'token.listen',
};

/**
 * The configuration a process gets from `file` (flattened TOML) and `env` (its environment):
 * the environment wins for every key (Config::Find), derived defaults filled in. Environment
 * variables must name a key of the file or of `knownKeys`; others come back in `unknown`.
 * `ignore` lists variables that are not configuration keys (IDP_CONFIG, secrets). `derive`
 * fills in the gateway's derived defaults (only the gateway reads those keys).
 */
export function effectiveConfig(file, env, { knownKeys = [], ignore = [], derive = true } = {}) {
  const values = new Map(file);
  const keys = new Set([...file.keys(), ...knownKeys, ...Object.keys(DERIVED)]);
  const byEnv = new Map([...keys].map((k) => [envName(k), k]));
  const unknown = [];
  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('IDP_') || ignore.includes(name)) continue;
    const key = byEnv.get(name);
    if (key === undefined) unknown.push(name);
    else values.set(key, String(value));
  }
  for (const [key, from] of Object.entries(DERIVED)) {
    if (derive && !values.has(key) && values.has(from)) values.set(key, values.get(from));
  }
  return { values, unknown };
}

/**
 * The keys the configuration table of docs/operations.md documents (first column, in
 * backticks): what an IDP_* variable in a deployment file may name besides the TOML's keys.
 */
export function documentedKeys(markdown) {
  const keys = new Set();
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| `')) continue;
    const first = line.split('|')[1];
    for (const m of first.matchAll(/`([a-z0-9_]+(?:\.[a-z0-9_]+)+)`/g)) keys.add(m[1]);
  }
  return [...keys];
}

/** host:port → port (IPv4 or a name; a comma list is not expected here). */
export function portOf(address) {
  const m = /:(\d+)$/.exec(address ?? '');
  return m ? Number(m[1]) : NaN;
}

/**
 * Differences between two effective configurations, each checked against `allowed`: a list of
 * { keys: RegExp, why: string, ok: (theirs, ours, key) => boolean }. Returns every difference
 * with the rule that allows it (or none).
 */
export function compareConfigs(reference, other, allowed) {
  const keys = new Set([...reference.keys(), ...other.keys()]);
  const diffs = [];
  for (const key of [...keys].sort()) {
    const a = reference.get(key);
    const b = other.get(key);
    if (a === b) continue;
    const rule = allowed.find((r) => r.keys.test(key));
    diffs.push({ key, reference: a, other: b, allowedBy: rule && rule.ok(b, a, key) ? rule.why : null });
  }
  return diffs;
}
